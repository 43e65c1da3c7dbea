"""A provider plugin process as the engine starts one, and a gRPC stub to it: the SDK's dynamic
provider (`python -m pulumi.dynamic`) or our native plugin (`pulumi-resource-whatsapp`)."""

from __future__ import annotations

import subprocess

import grpc
from pulumi.runtime.proto import provider_pb2_grpc


class PluginProcess:
    """A plugin started with `argv`, which prints its port first, as every plugin does."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        port = int(self.proc.stdout.readline().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def stop(self) -> str:
        """Stop it; what it wrote on stderr."""
        self.channel.close()
        self.proc.kill()
        _, err = self.proc.communicate(timeout=10)
        return err
