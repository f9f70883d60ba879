# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full dependency set.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY views ./views
RUN npx tsc -p tsconfig.build.json && cp -r views dist/views

# Runtime: compiled JS and production dependencies only, as the unprivileged node user.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# Environment templates are read (and validated) at every start, from ./templates by default.
COPY templates ./templates
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# A young generation of 2 x 16 MiB instead of V8's default 2 x 64 MiB: under load V8 grows it to its
# maximum and keeps it, about 90 MiB of resident memory; what it costs in CPU is in README.md
# (Performance, round five). npm start and the bench (bench/lib/servers.ts) pass the same flag.
CMD ["node", "--max-semi-space-size=16", "dist/src/main.js"]
