/**
 * @peculiar/x509 loaded for the development signer and its tests.
 *
 * @peculiar/x509 2.x pulls in tsyringe, which refuses to load unless a `Reflect.getMetadata`
 * polyfill (normally the `reflect-metadata` package) is installed first. That package is not a
 * dependency here, and @peculiar/x509 itself only uses tsyringe's registerSingleton/resolve on
 * classes with no constructor parameters, which never read metadata. So before the (dynamic, so
 * that the order is certain) import we add the four metadata functions tsyringe looks up,
 * backed by a WeakMap, only where they are missing: an installed `reflect-metadata` wins.
 */
import { webcrypto } from 'node:crypto';

type MetadataKey = unknown;
type Target = object;

function installReflectMetadata(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R['getMetadata'] === 'function') return;
  const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<MetadataKey, unknown>>>();
  const own = (target: Target, prop: PropertyKey | undefined): Map<MetadataKey, unknown> | undefined => store.get(target)?.get(prop);
  const ownOrNew = (target: Target, prop: PropertyKey | undefined): Map<MetadataKey, unknown> => {
    let byProp = store.get(target);
    if (!byProp) {
      byProp = new Map();
      store.set(target, byProp);
    }
    let m = byProp.get(prop);
    if (!m) {
      m = new Map();
      byProp.set(prop, m);
    }
    return m;
  };
  const getOwnMetadata = (key: MetadataKey, target: Target, prop?: PropertyKey): unknown => own(target, prop)?.get(key);
  const getMetadata = (key: MetadataKey, target: Target, prop?: PropertyKey): unknown => {
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const m = own(t, prop);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: MetadataKey, value: unknown, target: Target, prop?: PropertyKey): void => {
    ownOrNew(target, prop).set(key, value);
  };
  const metadata =
    (key: MetadataKey, value: unknown) =>
    (target: Target, prop?: PropertyKey): void =>
      defineMetadata(key, value, target, prop);
  const hasMetadata = (key: MetadataKey, target: Target, prop?: PropertyKey): boolean => getMetadata(key, target, prop) !== undefined;
  Object.assign(R, { getMetadata, getOwnMetadata, defineMetadata, hasMetadata, metadata });
}

installReflectMetadata();

export const x509: typeof import('@peculiar/x509') = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
