#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const { exitCode, abandoned } = await main(process.argv);
process.exitCode = exitCode;
// A second Ctrl-C abandoned work in flight (a query, a worker thread) that would keep us alive.
if (abandoned) process.exit();
