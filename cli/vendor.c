/* Vendor command: model submit. Uploads the ONNX bytes (content-addressed, zstd chunks), then
 * registers the manifest — canonicalised, naming the bytes' SHA-256, signed with the vendor's
 * key. The version id is the SHA-256 of that canonical manifest, so a version can never be
 * edited: changed bytes or claims make a different id, refused under a used version string. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static const char submit_usage[] =
    "usage: fedval model submit --config FILE --model MODEL.onnx --manifest MANIFEST.json\n"
    "\n"
    "Upload a frozen ONNX model and register it as a signed, immutable version. Prints the\n"
    "version id (SHA-256 of the canonical manifest).\n"
    "\n"
    "MANIFEST.json: name, version, intended_use, input.variables (benchmark variable names in\n"
    "the model's input order) and, optionally, claimed_performance, regulatory and any other\n"
    "documentation. 'vendor' defaults to the certificate's name; 'model_sha256' is filled in.\n"
    "\n"
    "  --config FILE     vendor client profile (default $FEDVAL_CONFIG)\n"
    "  --model FILE      the ONNX model\n"
    "  --manifest FILE   the manifest (JSON object)\n";

static fv_err upload(struct cli_conn *conn, const uint8_t *buf, size_t len, const char *sha,
		     struct fv_diag *d)
{
	uint32_t count = fv_chunk_count(len);
	uint8_t *frame = fv_alloc(FV_MODEL_CHUNK_MAX);
	fv_err e = FV_OK;

	if (!frame)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count && e == FV_OK; i++) {
		Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
		Fedval__UploadChunk body = FEDVAL__UPLOAD_CHUNK__INIT;
		struct fv_pb *rp = NULL;
		size_t off = (size_t)i * FV_MODEL_CHUNK_RAW, n = len - off, flen = 0;

		if (n > FV_MODEL_CHUNK_RAW)
			n = FV_MODEL_CHUNK_RAW;
		if ((e = fv_chunk_compress(buf + off, n, frame, &flen)) != FV_OK) {
			fv_diag_set(d, e, "compressing chunk %u", i);
			break;
		}
		body.sha256 = (char *)sha;
		body.size = len;
		body.index = i;
		body.count = count;
		body.data.data = frame;
		body.data.len = flen;
		req.body_case = FEDVAL__ENVELOPE__BODY_UPLOAD_CHUNK;
		req.upload_chunk = &body;
		if ((e = cli_call(conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, d)) != FV_OK)
			break;
		if (count > 4)
			fprintf(stderr, "\ruploaded %u/%u chunks", i + 1, count);
		/* Bytes already held by the coordinator need not be sent again. */
		if (!strcmp(fv_wire_env(rp)->ack->status ? fv_wire_env(rp)->ack->status : "",
			    "exists"))
			i = count;
		fv_pb_free(rp);
	}
	if (count > 4)
		fputc('\n', stderr);
	fv_free(frame);
	return e;
}

int cmd_model_submit(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"model", required_argument, NULL, 'm'},
					     {"manifest", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL, *model = NULL, *manifest = NULL, *vendor;
	struct cli_conn conn = {0};
	struct fv_diag d = {{0}};
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__SubmitModel body = FEDVAL__SUBMIT_MODEL__INIT;
	struct fv_pb *rp = NULL;
	uint8_t *buf = NULL, sig[FV_SIG_MAX];
	size_t len = 0, siglen = 0;
	char sha[FV_SHA256_HEX], *canon = NULL;
	json_t *man = NULL;
	int c, bad = 0, rc = CLI_FAIL;

	if (cli_wants_help(argc, argv, submit_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, submit_usage, &bad)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'm')
			model = optarg;
		else if (c == 'f')
			manifest = optarg;
	}
	if (bad)
		return CLI_USAGE;
	if (!model || !manifest || optind != argc)
		return cli_usage(submit_usage, "model submit needs --model and --manifest");
	if (fv_file_read(model, FV_MAX_MODEL_BYTES, &buf, &len, &d) != FV_OK ||
	    cli_json_file(manifest, &man, &d) != FV_OK)
		goto out;
	if (len == 0) {
		fv_diag_set(&d, FV_EINVAL, "%s is empty", model);
		goto out;
	}
	fv_sha256_hex(buf, len, sha);
	if (cli_connect(config, &conn, &d) != FV_OK)
		goto out;
	vendor = json_string_value(json_object_get(man, "vendor"));
	if (vendor && strcmp(vendor, fv_client_name(conn.client)) != 0) {
		fv_diag_set(&d, FV_EINVAL, "%s: vendor '%s' is not this profile's principal '%s'",
			    manifest, vendor, fv_client_name(conn.client));
		goto out;
	}
	json_object_set_new(man, "vendor", json_string(fv_client_name(conn.client)));
	json_object_set_new(man, "model_sha256", json_string(sha));
	if (!(canon = cli_json_canonical(man))) {
		fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto out;
	}
	if (upload(&conn, buf, len, sha, &d) != FV_OK)
		goto out;
	if (fv_sign(fv_client_key(conn.client), canon, strlen(canon), sig, &siglen) != FV_OK) {
		fv_diag_set(&d, FV_ECRYPTO, "signing the manifest failed");
		goto out;
	}
	body.manifest_json = canon;
	body.signature.data = sig;
	body.signature.len = siglen;
	req.body_case = FEDVAL__ENVELOPE__BODY_SUBMIT_MODEL;
	req.submit_model = &body;
	if (cli_call(&conn, &req, FEDVAL__ENVELOPE__BODY_ACK, &rp, &d) != FV_OK)
		goto out;
	printf("%s\n", fv_wire_env(rp)->ack->id);
	fprintf(stderr, "model %s %s: version id %s (%s)\n",
		json_string_value(json_object_get(man, "name")),
		json_string_value(json_object_get(man, "version")), fv_wire_env(rp)->ack->id,
		fv_wire_env(rp)->ack->status);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("model submit", &d);
	fv_pb_free(rp);
	free(canon);
	json_decref(man);
	fv_free(buf);
	if (conn.client)
		cli_disconnect(&conn);
	return rc;
}
