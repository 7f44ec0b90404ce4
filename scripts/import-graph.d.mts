/** Every cycle of `graph` (each module with the modules it imports), as `a -> b -> a`. */
export declare const cyclesOf: (graph: ReadonlyMap<string, ReadonlyArray<string>>) => ReadonlyArray<string>
