// The one list of backend plugins the CLI knows. A new backend target adds its plugin value here;
// `gpt backends`, `--backend NAME` and `auto` pick it up.

import Compute
import BLASBackend
import OpenCLBackend
import ReferenceBackend

let backendRegistry = BackendRegistry([
    ReferenceBackend.plugin,
    BLASBackend.plugin,
    OpenCLBackend.plugin,
])
