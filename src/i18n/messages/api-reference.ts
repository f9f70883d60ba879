import { defineMessages } from '../define-messages.ts';

/**
 * The frame of the API reference at /docs/api. The operations' summaries and field notes come from
 * the OpenAPI document, which is written in English for developers.
 */
export const apiReferenceMessages = defineMessages({
  en: {
    'apiReference.title': 'FairyID API',
    'apiReference.lead':
      'Call the API with an access token issued for the resource <code>{resource}</code> (ask for it with <code>resource={resource}</code> and the scopes an operation lists). Errors are <code>{ "error", "error_description" }</code>; lists take <code>?limit=</code> and <code>?cursor=</code> (the <code>next_cursor</code> of the previous page). The machine-readable document is <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1), from which this page is made.',
    'apiReference.sections': 'API sections',
    'apiReference.scopes': 'Scopes:',
    'apiReference.noScopes': 'none beyond a valid token',
    'apiReference.parameters': 'Parameters',
    'apiReference.requestBody': 'Request body',
    'apiReference.response': 'Response {status}',
    'apiReference.noBody': 'No body.',
    'apiReference.required': 'required',
  },
  fr: {
    'apiReference.title': 'API FairyID',
    'apiReference.lead':
      'Appelez l’API avec un jeton d’accès émis pour la ressource <code>{resource}</code> (demandez-le avec <code>resource={resource}</code> et les scopes indiqués pour chaque opération). Les erreurs prennent la forme <code>{ "error", "error_description" }</code>\u202f; les listes acceptent <code>?limit=</code> et <code>?cursor=</code> (le <code>next_cursor</code> de la page précédente). Le document lisible par machine est <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1)\u202f; cette page en est tirée.',
    'apiReference.sections': 'Sections de l’API',
    'apiReference.scopes': 'Scopes\u202f:',
    'apiReference.noScopes': 'aucun au-delà d’un jeton valide',
    'apiReference.parameters': 'Paramètres',
    'apiReference.requestBody': 'Corps de la requête',
    'apiReference.response': 'Réponse {status}',
    'apiReference.noBody': 'Pas de corps.',
    'apiReference.required': 'obligatoire',
  },
});
