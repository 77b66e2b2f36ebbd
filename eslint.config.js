import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-namespace": "off",
      "no-restricted-syntax": [
        "error",
        { selector: "TryStatement", message: "Use Effect.try / Effect.tryPromise instead of try/catch." }
      ]
    }
  },
  {
    // the program's own code meets lists as long as the market: a spread into a call's arguments overflows the stack
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "TryStatement", message: "Use Effect.try / Effect.tryPromise instead of try/catch." },
        {
          selector: "CallExpression > SpreadElement, NewExpression > SpreadElement",
          message: "An array spread into a call's arguments overflows the stack once it is long (Math.max(...xs), xs.push(...ys)): loop or reduce instead."
        }
      ]
    }
  }
)
