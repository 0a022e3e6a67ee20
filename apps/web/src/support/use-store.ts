import { useEffect, useState } from 'preact/hooks';
import type { Store } from './store.ts';

/** The store's current value; the component re-renders whenever it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value);
  useEffect(() => {
    setValue(store.value);
    return store.subscribe(setValue);
  }, [store]);
  return value;
}
