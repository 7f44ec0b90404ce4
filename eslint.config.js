import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "reports/**", "coverage/**", "**/.scratch/**", "**/scratch/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly",
        setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly"
      }
    },
    rules: {
      // Generators passed to Effect.gen need not yield.
      "require-yield": "off",
      // Effect code declares namespaces for types and single-extends empty interfaces.
      "@typescript-eslint/no-namespace": ["error", { allowDeclarations: true }],
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }]
    }
  },
  {
    // The import rule of @effect-cdf/files (its src/index.ts): code in internal/ takes only types from the public
    // service modules (Files, CdfClient, CdfConfig, CdfAuth, ...), whose code it is; values only from the data and
    // error modules, which import nothing that imports them back.
    files: ["packages/files/src/internal/**/*.ts"],
    ignores: ["packages/files/src/internal/promise.ts"], // the Promise facade: it builds and runs the services
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        patterns: [{
          group: [
            "../*",
            "!../CdfError.js",
            "!../FileMetadata.js",
            "!../FileIdentifier.js",
            "!../Content.js",
            "!../MultipartCheckpoint.js"
          ],
          allowTypeImports: true,
          message: "internal/ imports public service modules for their types only (src/index.ts, the import rule)"
        }]
      }]
    }
  }
)
