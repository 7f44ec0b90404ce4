import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The packages as a user installs them: tarballs, npm install from the registry, the installed bins.
export default mergeConfig(shared, defineProject({ test: { name: "install" } }))
