// Command pulumi-language-nodejs is this project's own minimal Pulumi language host for Node.js
// (TypeScript and JavaScript programs).
//
// Upstream's host lives in a Go module of its own (sdk/nodejs/cmd/pulumi-language-nodejs) that the
// Go module proxy available to us does not serve, so, as tools/engine/langhost does for Python, we
// implement the small part of the LanguageRuntime gRPC contract that `pulumi
// preview/up/refresh/destroy` need. The Node.js half of the host — the program runner
// `@pulumi/pulumi/cmd/run` of the @pulumi/pulumi npm package, found in the project's node_modules —
// does the real work: it connects to the engine's resource monitor, loads the program (through
// ts-node and the project's typescript for a .ts program) and waits for its resources. This
// binary only starts it with the right arguments and environment.
//
// Supported Pulumi.yaml runtime options: `typescript` (default true: run .ts through ts-node),
// `tsconfig` (path of the tsconfig.json to use) and `nodeargs` (extra arguments for node, split on
// blanks). Dependencies are installed by whoever prepares the program (`npm install`); this host
// never installs anything. Our programs need no downloaded plugins (the provider plugin comes from
// Pulumi.yaml's `plugins.providers`), so dependency discovery always answers "none".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// runModule is the program runner inside the @pulumi/pulumi npm package; node resolves it from
// the program's directory, so the project's own copy of the SDK runs the program.
const runModule = "@pulumi/pulumi/cmd/run"

// userActionableExit is the exit code @pulumi/pulumi's runner uses after it has already shown the
// user an error; the engine must then stop without printing a second, generic error.
const userActionableExit = 32

// healthcheckInterval is how often the host asks its engine whether it is still there; the first
// failed check stops the host (and the program it runs). Upstream's hosts wait 5 minutes between
// checks; like our Python host we ask every few seconds, so a killed `pulumi` leaves no host or
// node process behind for more than about that long.
const healthcheckInterval = 5 * time.Second

// outputWaitDelay bounds how long Run waits, after node exits, for the copies of its output to
// finish (a process node started could hold the pipes open).
const outputWaitDelay = 5 * time.Second

func main() {
	// The engine launches plugins as `[--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS`.
	// The logging flags only matter to glog-based hosts; we accept and ignore them.
	flags := flag.NewFlagSet("pulumi-language-nodejs", flag.ExitOnError)
	tracing := flags.String("tracing", "", "Zipkin-compatible tracing endpoint")
	flags.Bool("logtostderr", false, "ignored")
	flags.Int("v", 0, "ignored")
	_ = flags.Parse(os.Args[1:]) // ExitOnError: Parse exits on failure.

	// The host stops when the engine stops answering (a killed `pulumi` never tells its plugins),
	// or on SIGINT (how the engine closes its plugins) or SIGTERM. Stopping cancels every
	// program still running, so nothing this host started outlives it.
	shutdown, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host := &nodeHost{tracing: *tracing, shutdown: shutdown}
	if flags.NArg() > 0 {
		host.engineAddress = flags.Arg(flags.NArg() - 1)
	}
	if host.engineAddress != "" {
		if err := rpcutil.Healthcheck(shutdown, host.engineAddress, healthcheckInterval, stop); err != nil {
			fail(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}
	// rpcutil stops the server gracefully once this channel closes: it waits for the Run calls
	// in flight, which return as soon as their programs are killed.
	cancel := make(chan bool)
	go func() {
		<-shutdown.Done()
		close(cancel)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, host)
			return nil
		},
	})
	if err != nil {
		fail(err)
	}
	// Plugin protocol: the first stdout line is the port; the engine dials it, then treats the
	// rest of stdout as ordinary output.
	fmt.Printf("%d\n", handle.Port)
	err = <-handle.Done
	host.programs.Wait() // each was killed when shutdown was cancelled
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
	// shutdown is cancelled when the host stops; programs started by Run are killed then.
	shutdown context.Context
	programs sync.WaitGroup
}

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	// Newer engines pass their address here as well as on the command line; prefer this one.
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	// version.Version is set by the same -ldflags -X that stamps the CLI (see tools/install-engine).
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *nodeHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *nodeHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *nodeHost) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *nodeHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", node, err)
	}
	ver := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	return &pulumirpc.AboutResponse{Executable: node, Version: ver}, nil
}

// InstallDependencies never installs anything (whoever prepares the program runs `npm install`):
// it only checks that the program's node_modules holds the @pulumi/pulumi runner.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for engines without ProgramInfo
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on PATH: %w", err)
	}
	runner, err := locateRunner(stream.Context(), node, dir)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Using the installed @pulumi/pulumi (%s). Nothing to install.\n", runner)
	return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: []byte(msg)})
}

// options are the Pulumi.yaml runtime options this host understands.
type options struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	opts := options{typescript: true}
	for key, value := range info.GetOptions().GetFields() {
		switch key {
		case "typescript":
			b, ok := value.GetKind().(*structpb.Value_BoolValue)
			if !ok {
				return opts, errors.New("runtime option typescript must be a boolean")
			}
			opts.typescript = b.BoolValue
		case "tsconfig":
			s, ok := value.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return opts, errors.New("runtime option tsconfig must be a string")
			}
			opts.tsconfig = s.StringValue
		case "nodeargs":
			s, ok := value.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return opts, errors.New("runtime option nodeargs must be a string")
			}
			if strings.ContainsAny(s.StringValue, `"'\`) {
				return opts, errors.New("runtime option nodeargs: quoting is not supported by this " +
					"language host (arguments are split on blanks)")
			}
			opts.nodeargs = strings.Fields(s.StringValue)
		case "packagemanager", "production":
			// Only used to install dependencies, which this host never does.
		default:
			return opts, fmt.Errorf("runtime option %s is not supported by this language host", key)
		}
	}
	return opts, nil
}

// locateRunner asks node where the @pulumi/pulumi runner is, resolving from the program's
// directory as the program's own require() calls will.
func locateRunner(ctx context.Context, node, dir string) (string, error) {
	script := fmt.Sprintf(`try { console.log(require.resolve(%q)); } catch (e) { `+
		`console.error(e.code === "MODULE_NOT_FOUND" ? "MODULE_NOT_FOUND" : e.message); process.exit(1); }`,
		runModule)
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err == nil {
		return strings.TrimSpace(string(out)), nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if strings.TrimSpace(string(exitErr.Stderr)) == "MODULE_NOT_FOUND" {
			return "", fmt.Errorf("the Pulumi SDK is not installed in %s (no %s): run npm install there "+
				"(package.json needs @pulumi/pulumi)", dir, runModule)
		}
		return "", fmt.Errorf("could not locate %s from %s: %s", runModule, dir,
			strings.TrimSpace(string(exitErr.Stderr)))
	}
	return "", fmt.Errorf("could not run %s: %w", node, err)
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not find node on PATH: %v", err)}, nil
	}

	// Older engines send only the deprecated Program field (a directory) and Pwd; newer ones send
	// ProgramInfo. The entry point is "." unless Pulumi.yaml's `main` names a file; the runner
	// then takes package.json's `main` (or `exports`), else index.ts / index.js.
	programDir, entry := req.GetPwd(), req.GetProgram() //nolint:staticcheck // fallback
	rootDir := req.GetPwd()
	if info != nil {
		programDir, entry, rootDir = info.GetProgramDirectory(), info.GetEntryPoint(), info.GetRootDirectory()
	}
	if entry == "" {
		entry = "."
	}
	runner, err := locateRunner(ctx, node, programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runner)
	// The runner parses these with minimist: `--key value` pairs, empty ones left out, and
	// --dry-run as a bare boolean flag.
	for _, opt := range [][2]string{
		{"--monitor", req.GetMonitorAddress()},
		{"--engine", h.engineAddress},
		{"--organization", req.GetOrganization()},
		{"--project", req.GetProject()},
		{"--root-directory", rootDir},
		{"--stack", req.GetStack()},
		{"--pwd", programDir},
		{"--parallel", strconv.Itoa(int(req.GetParallel()))},
		{"--tracing", h.tracing},
	} {
		if opt[1] != "" {
			args = append(args, opt[0], opt[1])
		}
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	// The SDK reads the stack config and its secret keys from these two JSON env vars
	// (runtime/config.ts). Both must be JSON containers even when empty: a nil Go map or slice
	// would marshal to "null".
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	// The program dies with its Run call (the engine hung up) or with this host, whichever
	// comes first: exec kills it (SIGKILL) when runCtx is done.
	h.programs.Add(1)
	defer h.programs.Done()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	defer context.AfterFunc(h.shutdown, cancelRun)()
	cmd := exec.CommandContext(runCtx, node, args...)
	cmd.Dir = programDir
	// Node may switch the stdout/stderr it inherits to non-blocking mode, which would change our
	// own (the engine's pipes share the open file). Hiding the *os.File behind a plain Writer
	// makes exec give node pipes of its own and copy them to ours.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	cmd.WaitDelay = outputWaitDelay
	cmd.Env = env

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay): // node exited 0; a child kept its output open
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userActionableExit:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("failed to run %s: %v", node, err)}, nil
	}
}
