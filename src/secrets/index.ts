/**
 * Stored secrets (`ledge secret put|list|delete`): per app, under the persist directory, encrypted
 * at rest with the node key. The contract other folders import.
 *
 * - `putSecret`, `deleteSecret`, `listSecretNames`, `readSecrets`: one app's secrets file.
 * - `withStoredSecrets`: adds an app's secrets to its config's `vars` at start (precedence there).
 * - `loadNodeKey`, `SECRET_KEY_ENV`: where the key comes from.
 */
export { deleteSecret, listSecretNames, MAX_SECRET_BYTES, putSecret, readSecrets, secretsFile, validateSecretName } from "./store.js";
export { withStoredSecrets } from "./apply.js";
export { keyFilePath, loadNodeKey, SECRET_KEY_ENV } from "./key.js";
export type { NodeKey } from "./key.js";
