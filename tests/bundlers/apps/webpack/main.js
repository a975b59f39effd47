import * as sdk from "chat-sdk-wasm";
import { report, smoke } from "../common/smoke.js";

report(smoke(sdk));
