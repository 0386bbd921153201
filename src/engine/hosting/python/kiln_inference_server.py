"""Kiln's inference server for script-mode models: one per endpoint instance.

It plays SageMaker's framework serving containers (scikit-learn, PyTorch, XGBoost in
framework mode): it imports the user's module (SAGEMAKER_PROGRAM from the code folder), loads
the model once with model_fn(model_dir), and answers each invocation with transform_fn, or
input_fn -> predict_fn -> output_fn, using the containers' defaults for what the module does
not define.

Transports:
  * fd 3 (default): the framed protocol of Kiln's variant pool (worker-protocol.ts):
    u32 length | u32 request id | u8 kind | u16 header length | JSON header | body.
    The Ready frame is the answer to SageMaker's GET /ping; Request frames are POST /invocations.
  * --http PORT: the container contract itself, GET /ping and POST /invocations, for use
    outside Kiln.

Environment: KILN_MODEL_DIR, KILN_CODE_DIR, SAGEMAKER_PROGRAM, KILN_FRAMEWORK
(sklearn | pytorch | xgboost | tensorflow | python), SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT.
"""
import importlib
import io
import json
import os
import struct
import sys
import traceback

REQUEST, RESPONSE, READY, FATAL = 1, 2, 3, 4
JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
UTF8_TYPES = (JSON, CSV)

FRAMEWORK = os.environ.get("KILN_FRAMEWORK", "sklearn")
MODEL_DIR = os.environ.get("KILN_MODEL_DIR", "/opt/ml/model")
CODE_DIR = os.environ.get("KILN_CODE_DIR", "")
PROGRAM = os.environ.get("SAGEMAKER_PROGRAM", "")
DEFAULT_ACCEPT = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)


def log(message):
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


class HandlerError(Exception):
    """An error the container answers with a given HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def unsupported(content_type):
    return HandlerError(
        415,
        "Content type %s is not supported by this framework.\n\n"
        "Please implement input_fn to deserialize the request data or an output_fn to serialize the response. "
        "For more information, see the SageMaker Python SDK README." % content_type,
    )


# ---- the containers' default handlers ------------------------------------------------------


def decode(data, content_type):
    import numpy as np

    if content_type == JSON:
        return np.array(json.loads(data))
    if content_type == CSV:
        array = np.genfromtxt(io.StringIO(data), delimiter=",")
        return array.reshape(1, -1) if array.ndim == 1 and "\n" not in data.strip() else array
    if content_type == NPY:
        return np.load(io.BytesIO(data), allow_pickle=False)
    raise unsupported(content_type)


def encode(prediction, accept):
    import numpy as np

    if FRAMEWORK == "pytorch" and hasattr(prediction, "detach"):
        prediction = prediction.detach().cpu().numpy()
    array = np.asarray(prediction)
    if accept == JSON:
        return json.dumps(array.tolist())
    if accept == CSV:
        rows = array if array.ndim > 1 else array.reshape(-1, 1)
        return "\n".join(",".join(str(x) for x in row) for row in rows.tolist()) + "\n"
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()
    raise unsupported(accept)


def default_model_fn(model_dir):
    if FRAMEWORK == "pytorch":
        import torch

        path = os.path.join(model_dir, "model.pt")
        if not os.path.exists(path):
            raise ValueError("Failed to load model with default model_fn: missing file model.pt.")
        return torch.jit.load(path, map_location=torch.device("cpu"))
    if FRAMEWORK == "xgboost":
        import pickle
        import xgboost as xgb

        files = [f for f in sorted(os.listdir(model_dir)) if not f.startswith(".") and os.path.isfile(os.path.join(model_dir, f))]
        if not files:
            raise ValueError("No model file found in %s" % model_dir)
        path = os.path.join(model_dir, "xgboost-model" if "xgboost-model" in files else files[0])
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except Exception:
            booster = xgb.Booster()
            booster.load_model(path)
            return booster
    if FRAMEWORK == "tensorflow":
        raise NotImplementedError(
            "Kiln serves TensorFlow models through the handler module: provide a model_fn (TensorFlow Serving's "
            "SavedModel server and input_handler/output_handler are not implemented)."
        )
    raise NotImplementedError(
        "Please provide a model_fn implementation.\n"
        "See documentation for model_fn at https://sagemaker.readthedocs.io/en/stable/frameworks/sklearn/using_sklearn.html"
    )


def default_input_fn(input_data, content_type):
    array = decode(input_data, content_type)
    if FRAMEWORK == "pytorch":
        import torch

        return torch.FloatTensor(array)
    return array.astype("float32") if content_type in UTF8_TYPES else array


def default_predict_fn(data, model):
    if FRAMEWORK == "pytorch":
        import torch

        with torch.no_grad():
            return model(data)
    if FRAMEWORK == "xgboost":
        import xgboost as xgb

        if isinstance(model, xgb.Booster):
            return model.predict(xgb.DMatrix(data))
    return model.predict(data)


def default_output_fn(prediction, accept):
    return encode(prediction, accept), accept


# ---- the user's module -----------------------------------------------------------------------


def load_user_module():
    if not PROGRAM:
        return None
    if CODE_DIR:
        sys.path.insert(0, CODE_DIR)
    name = PROGRAM[:-3] if PROGRAM.endswith(".py") else PROGRAM
    return importlib.import_module(name.replace("/", "."))


class Handlers:
    def __init__(self, module):
        get = lambda name: getattr(module, name, None) if module is not None else None  # noqa: E731
        self.model_fn = get("model_fn") or default_model_fn
        self.transform_fn = get("transform_fn")
        user_io = [get("input_fn"), get("predict_fn"), get("output_fn")]
        if self.transform_fn and any(user_io):
            raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
        self.input_fn = user_io[0] or default_input_fn
        self.predict_fn = user_io[1] or default_predict_fn
        self.output_fn = user_io[2] or default_output_fn
        self.model = None

    def load(self):
        self.model = self.model_fn(MODEL_DIR)

    def invoke(self, body, content_type, accept):
        content_type = (content_type or JSON).split(";")[0].strip()
        accept = (accept or "").split(",")[0].split(";")[0].strip()
        if not accept or accept == "*/*":
            accept = DEFAULT_ACCEPT
        data = body.decode("utf-8") if content_type in UTF8_TYPES else body
        if self.transform_fn:
            result = self.transform_fn(self.model, data, content_type, accept)
        else:
            result = self.output_fn(self.predict_fn(self.input_fn(data, content_type), self.model), accept)
        return response(result, accept)


def response(result, accept):
    """What goes on the wire for a handler's result: (body, content type)."""
    if isinstance(result, tuple) and len(result) == 2:
        body, content_type = result
    elif isinstance(result, (dict, list)):
        # Flask, under the scikit-learn container, sends dicts and lists as compact JSON.
        body, content_type = json.dumps(result, separators=(",", ":")) + "\n", JSON
    elif result is None:
        body, content_type = b"", accept
    elif isinstance(result, (str, bytes, bytearray)):
        body, content_type = result, accept
    else:
        body, content_type = encode(result, accept), accept
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":")) + "\n"
    if isinstance(body, str):
        body = body.encode("utf-8")
    return bytes(body), content_type


def error_reply(error):
    status = error.status if isinstance(error, HandlerError) else 500
    log("Error %d handling the request:\n%s" % (status, traceback.format_exc().rstrip()))
    message = str(error) if isinstance(error, HandlerError) else json.dumps({"error": type(error).__name__, "error-message": str(error)})
    return status, message


# ---- transports ------------------------------------------------------------------------------


def frame(request_id, kind, header, body=b""):
    head = json.dumps(header).encode("utf-8")
    payload = struct.pack("<IBH", request_id, kind, len(head)) + head + body
    return struct.pack("<I", len(payload)) + payload


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def serve_frames(handlers, fd=3):
    while True:
        prefix = read_exact(fd, 4)
        if prefix is None:
            return
        payload = read_exact(fd, struct.unpack("<I", prefix)[0])
        if payload is None:
            return
        request_id, kind, head_length = struct.unpack("<IBH", payload[:7])
        if kind != REQUEST:
            continue
        header = json.loads(payload[7 : 7 + head_length] or b"{}")
        body = payload[7 + head_length :]
        try:
            out, content_type = handlers.invoke(body, header.get("ct"), header.get("accept"))
            write_all(fd, frame(request_id, RESPONSE, {"status": 200, "ct": content_type}, out))
        except Exception as error:  # the user's code may raise anything
            status, message = error_reply(error)
            write_all(fd, frame(request_id, RESPONSE, {"status": status, "message": message}))


def serve_http(handlers, port):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class ContainerContract(BaseHTTPRequestHandler):
        def reply(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/ping":
                self.reply(200, b"\n", "application/json")
            else:
                self.reply(404, b"Not Found", "text/plain")

        def do_POST(self):
            if self.path != "/invocations":
                return self.reply(404, b"Not Found", "text/plain")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                out, content_type = handlers.invoke(body, self.headers.get("Content-Type"), self.headers.get("Accept"))
                self.reply(200, out, content_type)
            except Exception as error:
                status, message = error_reply(error)
                self.reply(status, message.encode("utf-8"), "text/plain")

        def log_message(self, *args):
            log("%s - %s" % (self.address_string(), args[0] % args[1:]))

    log("Serving /ping and /invocations on port %d" % port)
    ThreadingHTTPServer(("127.0.0.1", port), ContainerContract).serve_forever()


def main():
    http_port = int(sys.argv[sys.argv.index("--http") + 1]) if "--http" in sys.argv else None
    try:
        handlers = Handlers(load_user_module())
        handlers.load()
        log("Loaded the model from %s with %s (%s)" % (MODEL_DIR, PROGRAM or "the default handlers", FRAMEWORK))
    except BaseException as error:
        message = "%s: %s" % (type(error).__name__, error)
        log("Failed to load the model:\n%s" % traceback.format_exc().rstrip())
        if http_port is None:
            write_all(3, frame(0, FATAL, {"message": message}))
        sys.exit(1)
    if http_port is not None:
        serve_http(handlers, http_port)
    else:
        write_all(3, frame(0, READY, {}))
        serve_frames(handlers)


if __name__ == "__main__":
    main()
