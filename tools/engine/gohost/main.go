// Command pulumi-language-go is this project's own Pulumi language host for Go programs.
//
// Upstream's host lives in a Go module of its own (sdk/go/pulumi-language-go/v3) that the Go
// module proxy does not serve, so, as tools/engine/langhost and nodehost do for Python and
// Node.js, we implement the part of the LanguageRuntime contract that `pulumi
// preview/up/refresh/destroy/import/install/about` need, the way upstream's host does it: the
// program is compiled with `go build` into a binary (a temporary file, or the runtime option
// `buildTarget`) and that binary is run in the program's directory, or a prebuilt executable (the
// runtime option `binary`) is run instead, or, with PULUMI_GO_USE_RUN set, `go run`; the Go SDK
// in the program reads the engine's run request from the environment (PULUMI_MONITOR,
// PULUMI_ENGINE, PULUMI_PROJECT, PULUMI_STACK, PULUMI_CONFIG, ..., see the SDK's go/pulumi/run.go).
// The plugins a program needs are found in its go.mod's modules (modules.go).
//
// What upstream's host does and this one does not (attaching a debugger, tracing spans, running
// Go plugins, code generation, `pulumi package pack`/`link`) is listed in docs/development.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/executable"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"waba-webhooks/tools/engine/hostkit"
)

// interruptGrace is how long a program has, after an interrupt, to stop before it is killed
// (upstream's WaitDelay).
const interruptGrace = 5 * time.Second

func main() {
	hostkit.Main("pulumi-language-go", &goHost{})
}

type goHost struct {
	hostkit.Base
}

// options are the Pulumi.yaml runtime options of a Go program.
type options struct {
	// binary is a prebuilt program to run instead of building one (looked up as upstream does:
	// the working directory, then PATH).
	binary string
	// buildTarget is where `go build` writes the program (kept after the run); empty: a
	// temporary file, deleted after the run.
	buildTarget string
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	var opts options
	for key, value := range info.GetOptions().AsMap() {
		text, isText := value.(string)
		switch key {
		case "binary":
			if !isText {
				return opts, errors.New("binary option must be a string")
			}
			opts.binary = text
		case "buildTarget":
			if !isText {
				return opts, errors.New("buildTarget option must be a string")
			}
			opts.buildTarget = text
		}
	}
	if opts.binary != "" && opts.buildTarget != "" {
		return opts, errors.New("binary and buildTarget cannot both be specified")
	}
	return opts, nil
}

// programEnv is the environment the Go SDK reads its run request from (pulumi.Env* of
// go/pulumi/run.go), after the host's own; empty values are left out, as upstream does.
func (h *goHost) programEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := hostkit.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), config...)
	for _, pair := range [][2]string{
		{pulumi.EnvOrganization, req.GetOrganization()},
		{pulumi.EnvProject, req.GetProject()},
		{pulumi.EnvPulumiRootDirectory, req.GetInfo().GetRootDirectory()},
		{pulumi.EnvStack, req.GetStack()},
		{pulumi.EnvDryRun, strconv.FormatBool(req.GetDryRun())},
		{pulumi.EnvParallel, strconv.Itoa(int(req.GetParallel()))},
		{pulumi.EnvMonitor, req.GetMonitorAddress()},
		{pulumi.EnvEngine, h.EngineAddress},
	} {
		if pair[1] != "" {
			env = append(env, pair[0]+"="+pair[1])
		}
	}
	return env, nil
}

func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.EngineAddress == "" {
		return nil, errors.New("when debugging or running explicitly, must call Handshake before Run")
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "this language host does not attach a debugger " +
			"(upstream's runs the program under dlv)"}, nil
	}
	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return nil, err
	}
	env, err := h.programEnv(req)
	if err != nil {
		return nil, fmt.Errorf("failed to prepare environment: %w", err)
	}
	programDir, pwd := info.GetProgramDirectory(), req.GetPwd()
	if programDir == "" {
		programDir = pwd
	}

	if opts.binary != "" {
		bin, err := executable.FindExecutable(opts.binary)
		if err != nil {
			return nil, fmt.Errorf("unable to find '%s' executable: %w", opts.binary, err)
		}
		return h.runProgram(ctx, pwd, env, bin), nil
	}
	if os.Getenv("PULUMI_GO_USE_RUN") != "" {
		// Upstream's deprecated `go run`: its exit status is go's, not the program's, so any
		// failure is taken as one the program already reported.
		gobin, err := executable.FindExecutable("go")
		if err != nil {
			return nil, fmt.Errorf("unable to find 'go' executable: %w", err)
		}
		if resp := h.runProgram(ctx, "", env, gobin, "run", programDir); resp.GetError() != "" {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{}, nil
	}

	program := opts.buildTarget
	if program == "" {
		f, err := os.CreateTemp("", "pulumi-go.*")
		if err != nil {
			return nil, fmt.Errorf("unable to create go program temp file: %w", err)
		}
		program = f.Name()
		defer os.Remove(program) // also when the build fails
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("unable to close go program temp file: %w", err)
		}
	}
	if err := h.compile(ctx, programDir, program); err != nil {
		return nil, fmt.Errorf("error in compiling Go: %w", err)
	}
	return h.runProgram(ctx, pwd, env, program), nil
}

// compile builds the Go program in dir with `go build` into outfile, as upstream: -buildvcs=false,
// -trimpath, -ldflags "-w -s". The engine shows "Compiling the program ..." meanwhile; go's own
// output goes to ours.
func (h *goHost) compile(ctx context.Context, dir, outfile string) error {
	h.log(ctx, "Compiling the program ...")
	if matches, err := filepath.Glob(filepath.Join(dir, "*.go")); err != nil || len(matches) == 0 {
		return fmt.Errorf("Failed to find go files for 'go build' matching %s", //nolint:staticcheck // upstream's text
			filepath.Join(dir, "*.go"))
	}
	gobin, err := executable.FindExecutable("go")
	if err != nil {
		return fmt.Errorf("unable to find 'go' executable: %w", err)
	}
	build := exec.CommandContext(ctx, gobin, "build", "-buildvcs=false", "-o", outfile,
		"-trimpath", "-ldflags", "-w -s")
	build.Dir = dir
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("unable to run `go build`: %w", err)
	}
	if ok, err := executable.IsExecutable(outfile); err != nil || !ok {
		return errors.New("go program is not executable, does your program have a 'main' package?")
	}
	h.log(ctx, "Finished compiling")
	return nil
}

// log shows an ephemeral line in the engine's display, as upstream's host does around a build;
// a failure only loses the line.
func (h *goHost) log(ctx context.Context, message string) {
	conn, err := grpc.NewClient(h.EngineAddress, grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = pulumirpc.NewEngineClient(conn).Log(ctx, &pulumirpc.LogRequest{
		Severity: pulumirpc.LogSeverity_INFO, Message: message, Ephemeral: true,
	})
}

// runProgram runs the program to its end in dir (empty: the host's). When the engine hangs up
// or the host stops, the program gets an interrupt and, after interruptGrace, a kill, as
// upstream's host does it.
func (h *goHost) runProgram(ctx context.Context, dir string, env []string, bin string,
	args ...string) *pulumirpc.RunResponse {
	return h.Execute(ctx, bin, func(runCtx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(runCtx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.Cancel = func() error {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				return cmd.Process.Kill()
			}
			return nil
		}
		cmd.WaitDelay = interruptGrace
		return cmd
	})
}

// InstallDependencies runs `go mod tidy -compat=1.18` in the program's directory, as upstream's
// host does (`pulumi install`); it needs the Go module proxy, or Go's module cache, for the
// program's modules.
func (h *goHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(stream, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	_, _ = io.WriteString(stdout, "Installing dependencies...\n\n")
	gobin, err := goBinary()
	if err != nil {
		return err
	}
	tidy := exec.CommandContext(stream.Context(), gobin, "mod", "tidy", "-compat=1.18")
	tidy.Dir = req.GetInfo().GetProgramDirectory()
	tidy.Stdout, tidy.Stderr = stdout, stderr
	if err := tidy.Run(); err != nil {
		return fmt.Errorf("`go mod tidy` failed to install dependencies: %w", err)
	}
	_, _ = io.WriteString(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *goHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	gobin, err := executable.FindExecutable("go")
	if err != nil {
		return nil, fmt.Errorf("could not find executable 'go': %w", err)
	}
	out, err := exec.CommandContext(ctx, gobin, "version").Output()
	if err != nil {
		return nil, fmt.Errorf("failed to execute '%s version'", gobin)
	}
	return &pulumirpc.AboutResponse{Executable: gobin, Version: strings.TrimSpace(string(out))}, nil
}
