import { stringify } from 'yaml';
import { MACHINE_USER, type CloudConfigParts } from './template.ts';

/**
 * The `#cloud-config` a machine boots with: the template's parts, plus what FairyID owns: the one
 * user with the environment's key, the host keys (so they are pinned from the first connection),
 * the volume mounted at /home (formatted only when blank, so files survive stop and start), and
 * phone_home, which cloud-init runs last, once runcmd (and with it tmux) is done.
 */
export function renderCloudConfig(input: {
  parts: CloudConfigParts;
  clientPublicKey: string;
  hostPrivateKey: string;
  hostPublicKey: string;
  phoneHomeUrl: string;
  volumeName: string;
}): string {
  // DigitalOcean exposes an attached volume under this stable name.
  const device = `/dev/disk/by-id/scsi-0DO_Volume_${input.volumeName}`;
  const config = {
    ...input.parts,
    disable_root: true,
    ssh_pwauth: false,
    // cloud-init's defaults regenerate host keys per instance; ours must stay the same across starts.
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: input.hostPrivateKey, ed25519_public: input.hostPublicKey },
    fs_setup: [{ label: 'home', filesystem: 'ext4', device, overwrite: false }],
    mounts: [[device, '/home', 'ext4', 'defaults,nofail,discard', '0', '2']],
    users: [
      {
        name: MACHINE_USER,
        shell: '/bin/bash',
        groups: ['sudo'],
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [input.clientPublicKey],
      },
    ],
    phone_home: {
      url: input.phoneHomeUrl,
      post: ['pub_key_ed25519', 'instance_id', 'hostname', 'fqdn'],
      tries: 10,
    },
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}
