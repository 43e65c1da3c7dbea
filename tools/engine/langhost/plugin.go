package main

// Python source plugins: a plugin folder with a PulumiPlugin.yaml (`runtime: python`), its
// `__main__.py` and a requirements.txt, as the engine installs them from an archive or a folder.
// The engine asks the host to install the plugin's dependencies once (InstallDependencies with
// is_plugin), then to start the plugin whenever it needs it (RunPlugin). Both follow upstream's
// Python host at the engine's version, with upstream's own toolchain package (sdk/v3
// python/toolchain): a plugin gets a virtualenv of its own, `venv` in its folder unless its
// runtime options name another, made with the `python3` on PATH (or $PULUMI_PYTHON_CMD), and
// pip installs requirements.txt into it; the plugin runs as `python <plugin folder> ARGS` in the
// engine's working directory with the engine's environment.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
)

// pluginVirtualenv is a plugin's virtualenv (relative to its folder) when its PulumiPlugin.yaml
// names none: upstream runs no plugin with the ambient Python.
const pluginVirtualenv = "venv"

// pluginToolchain is the toolchain of the plugin whose folder and runtime options `info` holds.
// Only pip is supported (toolchain: pip, or no toolchain option), as for programs.
func pluginToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := info.GetOptions().GetFields()
	switch tc := stringOpt(opts, "toolchain"); tc {
	case "", "pip":
	default:
		return nil, fmt.Errorf("runtime option toolchain: %q is not supported for plugins by this "+
			"language host (use pip)", tc)
	}
	venv := stringOpt(opts, "virtualenv")
	if venv == "" {
		venv = pluginVirtualenv
	}
	return toolchain.ResolveToolchain(toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Virtualenv: venv,
		Toolchain:  toolchain.Pip,
	})
}

// installPluginDependencies creates the plugin's virtualenv and installs its requirements.txt
// there, streaming pip's output to the engine (which shows it when the install fails).
func installPluginDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, err := pluginToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(stream, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if err := tc.InstallDependencies(stream.Context(), req.GetInfo().GetProgramDirectory(),
		false /* useLanguageVersionTools */, true /* showOutput */, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// RunPlugin starts the plugin in the folder `req.Info` names, `python <folder> ARGS` with its
// virtualenv's Python, and relays its output until it exits; the exit code ends the stream. The
// plugin dies with the call (the engine closed it) or with this host.
func (h *pythonHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	if req.GetKind() == "analyzer" {
		return errors.New("policy packs are not supported by this language host")
	}
	if req.GetAttachDebugger() {
		return errors.New("attaching a debugger is not supported by this language host")
	}
	mainPy := filepath.Join(info.GetRootDirectory(), "__main__.py")
	if _, err := os.Stat(mainPy); err != nil {
		return fmt.Errorf("the plugin in %s has no __main__.py (plugins that only ship a pyproject.toml "+
			"are not supported by this language host): %w", info.GetRootDirectory(), err)
	}
	tc, err := pluginToolchain(info)
	if err != nil {
		return err
	}

	ctx, done := h.Child(server.Context())
	defer done()
	args := append([]string{info.GetProgramDirectory()}, req.GetArgs()...)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.GetPwd()
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())},
				})
			}
			return fmt.Errorf("plugin exited unexpectedly: %w", exitErr)
		}
		return fmt.Errorf("could not run the plugin in %s: %w", info.GetProgramDirectory(), err)
	}
	return closer.Close()
}
