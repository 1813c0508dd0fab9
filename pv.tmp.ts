import ts from "typescript";
import { lowerText } from "./transformer/lower.ts";
import { applySplices } from "./test/lowering.test.ts";
