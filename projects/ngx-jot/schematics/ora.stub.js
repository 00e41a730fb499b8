// `ora` is ESM-only and Jest (CommonJS) cannot load it; the schematic specs never run the
// npm install task that uses it, so a no-op spinner is enough.
function ora() {
  const spinner = {
    start: () => spinner,
    stop: () => spinner,
    succeed: () => spinner,
    fail: () => spinner,
    warn: () => spinner,
    info: () => spinner,
  };
  return spinner;
}
module.exports = ora;
