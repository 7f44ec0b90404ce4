/**
 * @since 0.1.0
 */

/**
 * A local CDF Files API emulator: one HTTP app served on a Node port or in memory.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"
