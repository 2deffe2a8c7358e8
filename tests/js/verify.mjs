// Independent check of C2PA output with @trustnxt/c2pa-ts (pure TypeScript, no c2pa-rs inside).
// Usage: node tests/js/verify.mjs FILE  ->  one JSON object on stdout;
//        node tests/js/verify.mjs FILE FILE...  ->  a JSON array of them (one node start for many files).
// The package is looked up in $C2PA_TS_DIR, else tests/.cache/js/node_modules/@trustnxt/c2pa-ts
// (installed by `make test`). It does not check trust anchors: only structure, hashes, signature.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DISCLOSURE_LABEL = 'com.genai-provenance.disclosure';
// MP4/MOV brands c2pa-rs writes; c2pa-ts only lists HEIF brands but its BMFF hashing handles them.
const VIDEO_BRANDS = ['isom', 'mp41', 'mp42', 'qt  ', 'iso2', 'avc1'];

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = process.env.C2PA_TS_DIR || path.join(here, '..', '.cache', 'js', 'node_modules', '@trustnxt', 'c2pa-ts');
const load = (sub) => import(pathToFileURL(path.join(pkgDir, 'dist', sub, 'index.js')).href);

async function main(file) {
    const [{ BMFF, JPEG, PNG }, { SuperBox }, { ManifestStore, ValidationResult }] = await Promise.all([
        load('asset'),
        load('jumbf'),
        load('manifest'),
    ]);
    for (const brand of VIDEO_BRANDS) BMFF.canReadBrands.add(brand);

    const out = {
        file,
        format: null,
        manifest_found: false,
        manifests: 0,
        active_manifest: null,
        valid: false,
        validation_errors: [],
        claim_signature_ok: false,
        assertions: [],
        created_assertions: [],
        gathered_assertions: [],
        disclosure_label_seen: false,
        disclosure_created: false,
        digital_source_types: [],
        digital_source_type_seen: false,
        error: null,
    };
    const buf = new Uint8Array(await fs.readFile(file));
    let asset;
    if (JPEG.canRead(buf)) [asset, out.format] = [new JPEG(buf), 'jpeg'];
    else if (PNG.canRead(buf)) [asset, out.format] = [new PNG(buf), 'png'];
    else if (BMFF.canRead(buf)) [asset, out.format] = [new BMFF(buf), 'bmff'];
    else {
        out.error = 'unknown file format';
        return out;
    }
    const jumbf = asset.getManifestJUMBF();
    if (!jumbf) return out;
    out.manifest_found = true;

    let result;
    try {
        const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
        out.manifests = store.manifests.length;
        const active = store.getActiveManifest();
        out.active_manifest = active?.label ?? null;
        const uris = (list) => (list ?? []).map((h) => h.uri);
        out.created_assertions = uris(active?.claim?.assertions);
        out.gathered_assertions = uris(active?.claim?.gatheredAssertions);
        for (const assertion of active?.assertions?.assertions ?? []) {
            out.assertions.push(assertion.fullLabel ?? assertion.label);
            for (const action of assertion.actions ?? []) {
                if (action.digitalSourceType) out.digital_source_types.push(action.digitalSourceType);
            }
        }
        result = await store.validate(asset);
    } catch (e) {
        result = ValidationResult.fromError(e);
        out.error = String(e?.message ?? e);
    }
    out.valid = result.isValid;
    out.validation_errors = result.statusEntries
        .filter((entry) => !entry.success)
        .map(({ code, url, explanation }) => ({ code, url: url ?? null, explanation: explanation ?? null }));
    out.claim_signature_ok = result.statusEntries.some((e) => e.success && e.code === 'claimSignature.validated');
    out.disclosure_label_seen = out.assertions.includes(DISCLOSURE_LABEL);
    // Created assertions are attributed to the signer; gathered ones are not (C2PA 2.x claims).
    out.disclosure_created = out.created_assertions.some((uri) => uri.endsWith(`/${DISCLOSURE_LABEL}`));
    out.digital_source_type_seen = out.digital_source_types.length > 0;
    return out;
}

const files = process.argv.slice(2);
if (files.length === 0) {
    console.error('usage: node verify.mjs FILE [FILE...]');
    process.exit(2);
}
try {
    const results = [];
    for (const file of files) results.push(await main(file));
    console.log(JSON.stringify(files.length === 1 ? results[0] : results, null, 2));
} catch (e) {
    console.error(`verify.mjs: ${e?.message ?? e}`);
    process.exit(2);
}
