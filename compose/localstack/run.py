"""Starts LocalStack (run by LocalStack's own interpreter) with one fix to its API Gateway.

The request validator of LocalStack 4.8 catches only ``JSONDecodeError`` when it parses a body,
so a body that ``json.loads`` cannot even decode (bytes that look like UTF-16/32) raises
``UnicodeDecodeError`` and the client gets a 500 where AWS answers 400 "Invalid request body".
Such a body is treated as invalid here, as AWS does.
"""

from localstack.runtime.main import main
from localstack.services.apigateway.next_gen.execute_api.handlers import method_request

_is_body_valid = method_request.MethodRequestHandler._is_body_valid


def _is_body_valid_or_invalid(method, rest_api, request):  # type: ignore[no-untyped-def]
    try:
        return _is_body_valid(method, rest_api, request)
    except ValueError:  # UnicodeDecodeError included
        return False


method_request.MethodRequestHandler._is_body_valid = staticmethod(_is_body_valid_or_invalid)

if __name__ == "__main__":
    main()
