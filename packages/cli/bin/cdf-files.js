#!/usr/bin/env node
// The executable runs the bundle of dist/bin.js (scripts/bundle-bins.mjs, part of the build): it starts in half the
// time of the unbundled modules.
import "../dist/bundle/cdf-files.js"
