/** The model aliases access serves: `MODELS` at start, then the routing document's aliases. */
export class ModelCatalog {
  constructor(public aliases: string[]) {}
}
