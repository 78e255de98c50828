"""Starts LocalStack (run by LocalStack's own interpreter) with two changes to API Gateway and
one to how it stops Kinesis.

1. The request validator of LocalStack 4.8 catches only ``JSONDecodeError`` when it parses a
   body, so a body that ``json.loads`` cannot even decode (bytes that look like UTF-16/32)
   raises ``UnicodeDecodeError`` and the client gets a 500 where AWS answers 400 "Invalid
   request body". Such a body is treated as invalid here, as AWS does.
2. API Gateway lives in memory, so after a restart the sandbox deploys its REST APIs again, with
   their old ids. Until that is done, a call to one of those ids answers 503 with Retry-After
   (retry: it is coming back) rather than 404 (it does not exist), so clients ride out a
   restart the way they ride out any outage. The ids are read from ``PINPIPE_PIPELINES_FILE``.
3. LocalStack stops its Kinesis engine, kinesis-mock, with a SIGKILL, so the records it
   acknowledged since its last periodic save were lost at every stop. Here it gets a SIGTERM
   first, on which it saves once more and ends (the sandbox's preload makes it wait for that
   save), and the SIGKILL only if it has not ended within ``KINESIS_SAVE_WAIT_S``.
"""

import contextlib
import json
import os
import subprocess
from pathlib import Path

from localstack.http import Response
from localstack.runtime.main import main
from localstack.services.apigateway.next_gen.execute_api import router
from localstack.services.apigateway.next_gen.execute_api.handlers import method_request
from localstack.services.kinesis.kinesis_mock_server import KinesisMockServer

_is_body_valid = method_request.MethodRequestHandler._is_body_valid


def _is_body_valid_or_invalid(method, rest_api, request):  # type: ignore[no-untyped-def]
    try:
        return _is_body_valid(method, rest_api, request)
    except ValueError:  # UnicodeDecodeError included
        return False


method_request.MethodRequestHandler._is_body_valid = staticmethod(_is_body_valid_or_invalid)

_not_found = router.ApiGatewayEndpoint.create_not_found_response


def _known_api_ids() -> set[str]:
    path = Path(os.environ.get("PINPIPE_PIPELINES_FILE", "/nonexistent"))
    try:
        return {str(p.get("rest_api_id")) for p in json.loads(path.read_text()).values()}
    except (OSError, ValueError, AttributeError):
        return set()


def _not_found_or_not_yet(api_id: str) -> Response:
    if api_id not in _known_api_ids():
        return _not_found(api_id)
    response = Response(status=503, headers={"Retry-After": "1"})
    response.set_json({"message": f"The API '{api_id}' is being deployed again; retry shortly"})
    return response


router.ApiGatewayEndpoint.create_not_found_response = staticmethod(_not_found_or_not_yet)

KINESIS_SAVE_WAIT_S = 10.0
_shutdown = KinesisMockServer.shutdown


def _shutdown_after_a_last_save(self: KinesisMockServer) -> None:
    process = getattr(self._thread, "process", None)
    if process is not None and process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):  # then killed, as LocalStack does
            process.wait(timeout=KINESIS_SAVE_WAIT_S)
    _shutdown(self)


KinesisMockServer.shutdown = _shutdown_after_a_last_save

if __name__ == "__main__":
    main()
