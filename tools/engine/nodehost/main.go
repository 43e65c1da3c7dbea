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
// blanks), and, to install dependencies (`pulumi install`, InstallDependencies), `packagemanager`
// and `production`. The plugins a program needs are those its node_modules' package.json files
// name, as upstream's host reports them (packages.go).
//
// It also generates TypeScript from PCL (GenerateProgram, generate.go) for `pulumi import` and
// `pulumi convert`, and generates and links a local SDK for `pulumi package add` (link.go), with
// upstream's code generators.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"waba-webhooks/tools/engine/hostkit"
)

// runModule is the program runner inside the @pulumi/pulumi npm package; node resolves it from
// the program's directory, so the project's own copy of the SDK runs the program.
const runModule = "@pulumi/pulumi/cmd/run"

// outputWaitDelay bounds how long Run waits, after node exits, for the copies of its output to
// finish (a process node started could hold the pipes open).
const outputWaitDelay = 5 * time.Second

func main() {
	hostkit.Main("pulumi-language-nodejs", &nodeHost{})
}

type nodeHost struct {
	hostkit.Base
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

// InstallDependencies installs the program's dependencies as upstream's host does, with upstream's
// npm package (`pulumi install`, and `pulumi package add` after Link): the runtime option
// `packagemanager` (auto: from the lock file, else npm) installs in the program's folder, or in
// the root of the npm or yarn workspace that holds it; `production` installs no devDependencies.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for engines without ProgramInfo
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(stream, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	root, err := npm.FindWorkspaceRoot(dir)
	switch {
	case errors.Is(err, npm.ErrNotInWorkspace):
		root = dir
	case err != nil:
		return fmt.Errorf("failure while trying to find workspace root: %w", err)
	default:
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", root)
	}
	if _, err := npm.Install(stream.Context(), opts.packagemanager, root, opts.production,
		stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// options are the Pulumi.yaml runtime options this host understands.
type options struct {
	typescript     bool
	tsconfig       string
	nodeargs       []string
	packagemanager npm.PackageManagerType
	production     bool
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	opts := options{typescript: true, packagemanager: npm.AutoPackageManager}
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
		case "packagemanager":
			s, ok := value.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return opts, errors.New("packagemanager option must be a string")
			}
			switch pm := npm.PackageManagerType(s.StringValue); pm {
			case npm.AutoPackageManager, npm.NpmPackageManager, npm.YarnPackageManager,
				npm.PnpmPackageManager, npm.BunPackageManager:
				opts.packagemanager = pm
			default:
				return opts, fmt.Errorf("packagemanager option must be one of auto, npm, yarn, pnpm or bun, "+
					"got %q", s.StringValue)
			}
		case "production":
			b, ok := value.GetKind().(*structpb.Value_BoolValue)
			if !ok {
				return opts, errors.New("production option must be a boolean")
			}
			opts.production = b.BoolValue
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
		{"--engine", h.EngineAddress},
		{"--organization", req.GetOrganization()},
		{"--project", req.GetProject()},
		{"--root-directory", rootDir},
		{"--stack", req.GetStack()},
		{"--pwd", programDir},
		{"--parallel", strconv.Itoa(int(req.GetParallel()))},
		{"--tracing", h.Tracing},
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

	configEnv, err := hostkit.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), configEnv...)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	return h.Execute(ctx, node, func(runCtx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(runCtx, node, args...)
		cmd.Dir = programDir
		// Node may switch the stdout/stderr it inherits to non-blocking mode, which would change
		// our own (the engine's pipes share the open file). Hiding the *os.File behind a plain
		// Writer makes exec give node pipes of its own and copy them to ours.
		cmd.Stdout = struct{ io.Writer }{os.Stdout}
		cmd.Stderr = struct{ io.Writer }{os.Stderr}
		cmd.WaitDelay = outputWaitDelay
		cmd.Env = env
		return cmd
	}), nil
}
