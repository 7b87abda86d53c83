#!/usr/bin/env node
// Compiles contracts/*.sol with the pinned solc-js (standard JSON, fixed settings) and writes
// artifacts/<Name>.json = { contractName, compiler, abi, bytecode, deployedBytecode }.
// The artifacts are committed; the Rust bindings are generated from them, and a test
// recompiles into a scratch directory (`node compile.js --out <dir>`) and compares.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const here = __dirname;
const args = process.argv.slice(2);
const outFlag = args.indexOf('--out');
const outDir = outFlag >= 0 ? path.resolve(args[outFlag + 1]) : path.join(here, 'artifacts');
const contractsDir = path.join(here, 'contracts');

// Which contracts get an artifact (interfaces have no bytecode of their own). HostileApp
// (contracts/test/) exists only for the gateway's tests.
const DEPLOYABLE = ['JunctionGateway', 'TokenEscrow', 'HostileApp'];

const sources = {};
for (const dir of ['', 'test']) {
  const full = path.join(contractsDir, dir);
  for (const file of fs.readdirSync(full).filter((f) => f.endsWith('.sol')).sort()) {
    const name = dir ? `${dir}/${file}` : file;
    sources[`contracts/${name}`] = { content: fs.readFileSync(path.join(full, file), 'utf8') };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 1000000 },
    viaIR: true,
    evmVersion: 'cancun',
    // No metadata hash: the bytecode depends on the code, not on comments or file paths.
    metadata: { appendCBOR: false, bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const problems = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage + '\n');
}
if (problems.length > 0) {
  process.exit(1);
}

fs.mkdirSync(outDir, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    if (!DEPLOYABLE.includes(name)) continue;
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: solc.version(),
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  }
}
