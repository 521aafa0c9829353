#!/usr/bin/env node
// The `vanish` command. A committed shim, so npm links it even before the first build.
import '../dist/cli.js';
