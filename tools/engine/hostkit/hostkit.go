// Package hostkit is what this project's language hosts (langhost: Python, nodehost: Node.js,
// gohost: Go) share: the plugin command line, the engine health check, serving the
// LanguageRuntime on a loopback port, the answers of a host that installs nothing, running a
// program (or a plugin) to its end, and the package a program needs as the engine takes it
// (ResourcePackage). Each host adds only what its language needs (how to start a program, its
// runtime options, About; the Go host also its plugins and dependencies).
package hostkit

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// UserActionableExit is the exit code a program runner (pulumi-language-python-exec,
// @pulumi/pulumi's cmd/run) uses after it has already shown the user an error; the engine must
// then stop without printing a second, generic error.
const UserActionableExit = 32

// HealthcheckInterval is how often a host asks its engine whether it is still there; the first
// failed check stops the host (and the program it runs). Upstream's hosts wait 5 minutes between
// checks. The check is one gRPC call over loopback, so we ask every few seconds: a killed
// `pulumi` then leaves no host or program behind for more than about that long, which matters on
// a machine where test runs and CI jobs are killed (DESIGN.md section 2).
const HealthcheckInterval = 5 * time.Second

// Base is the part of a language host every language shares; a host embeds it.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	// EngineAddress is the engine's gRPC address (command line, or Handshake).
	EngineAddress string
	// Tracing is the engine's tracing endpoint, passed on to programs.
	Tracing string
	// Shutdown is cancelled when the host stops; programs started by Execute are killed then.
	Shutdown context.Context
	programs sync.WaitGroup
}

// Host is a language host built on Base.
type Host interface {
	pulumirpc.LanguageRuntimeServer
	base() *Base
}

func (b *Base) base() *Base { return b }

// Main runs `host` as the plugin `name`: it parses the command line the engine starts plugins
// with, serves the host on a loopback port it prints, and returns when the engine stops
// answering (a killed `pulumi` never tells its plugins), on SIGINT (how the engine closes its
// plugins) or on SIGTERM. Stopping kills every program still running, so nothing the host
// started outlives it.
func Main(name string, host Host) {
	// The engine launches plugins as `[--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS`.
	// The logging flags only matter to glog-based hosts; we accept and ignore them. Older
	// engines' plugin code (pulumi-yaml's host, built against SDK 3.206, loads schemas with it)
	// also passes `-root=DIR` and each runtime option as `-OPTION=VALUE`; every request carries
	// them too, so they are ignored here as well.
	flags := flag.NewFlagSet(name, flag.ExitOnError)
	tracing := flags.String("tracing", "", "Zipkin-compatible tracing endpoint")
	flags.Bool("logtostderr", false, "ignored")
	flags.Int("v", 0, "ignored")
	flags.String("root", "", "ignored (the program's root comes with each request)")
	_ = flags.Parse(withoutOptionFlags(os.Args[1:], flags)) // ExitOnError: Parse exits on failure.

	shutdown, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := host.base()
	b.Tracing, b.Shutdown = *tracing, shutdown
	if flags.NArg() > 0 {
		b.EngineAddress = flags.Arg(flags.NArg() - 1)
	}
	if b.EngineAddress != "" {
		if err := rpcutil.Healthcheck(shutdown, b.EngineAddress, HealthcheckInterval, stop); err != nil {
			Fail(name, fmt.Errorf("could not start the engine health check: %w", err))
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
		Fail(name, err)
	}
	// Plugin protocol: the first stdout line is the port; the engine dials it, then treats the
	// rest of stdout as ordinary output.
	fmt.Printf("%d\n", handle.Port)
	err = <-handle.Done
	b.programs.Wait() // each was killed when shutdown was cancelled
	if err != nil {
		Fail(name, err)
	}
}

// withoutOptionFlags drops the `-NAME=VALUE` arguments whose NAME `flags` does not define: the
// runtime options older engines pass as flags.
func withoutOptionFlags(args []string, flags *flag.FlagSet) []string {
	kept := make([]string, 0, len(args))
	for _, arg := range args {
		name, _, isOption := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && isOption && flags.Lookup(name) == nil {
			continue
		}
		kept = append(kept, arg)
	}
	return kept
}

// Fail reports err as the plugin `name` and exits.
func Fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// Execute runs the program command that `command` makes (with exec.CommandContext on the
// context it is given) to its end and turns its exit into the engine's answer. The program dies
// with its Run call (the engine hung up) or with this host, whichever comes first: exec kills it
// (SIGKILL) when that context is done. `what` names the program in an error.
func (b *Base) Execute(ctx context.Context, what string,
	command func(ctx context.Context) *exec.Cmd) *pulumirpc.RunResponse {
	runCtx, done := b.Child(ctx)
	defer done()

	err := command(runCtx).Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay): // exited 0; a child kept its output open
		return &pulumirpc.RunResponse{}
	case errors.As(err, &exitErr) && exitErr.ExitCode() == UserActionableExit:
		return &pulumirpc.RunResponse{Bail: true}
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("failed to run %s: %v", what, err)}
	}
}

// Child is the context of a process the host starts for a call whose context is ctx (a program,
// a plugin): it ends with the call or with this host, whichever comes first, and the host waits
// for the process before it exits. Call done when the process has exited.
func (b *Base) Child(ctx context.Context) (child context.Context, done func()) {
	b.programs.Add(1)
	child, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.Shutdown, cancel)
	return child, func() {
		stop()
		cancel()
		b.programs.Done()
	}
}

// ResourcePackage is a provider plugin a program needs, as a package's metadata names it (a
// `pulumi` section of package.json, a pulumi-plugin.json): the engine installs it before the
// program runs (from server, when set) and makes it the default provider of that version.
// Upstream's hosts send versions with a leading "v"; so does this.
func ResourcePackage(name, version, server string) *pulumirpc.PackageDependency {
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	return &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: version, Server: server}
}

// Handshake takes the engine's address: newer engines pass it here as well as on the command
// line; this one wins.
func (b *Base) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		b.EngineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo answers the engine's version: version.Version is set by the same -ldflags -X
// that stamps the CLI (see tools/install-engine).
func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins answers none. The engine asks GetRequiredPackages first (and this only of a
// host that lacks it), as upstream's hosts answer it; each of our hosts has its own.
func (b *Base) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages answers none; a host that finds its program's packages overrides it.
func (b *Base) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// GetProgramDependencies answers none: `pulumi about` lists no program dependency.
func (b *Base) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// RuntimeOptionsPrompts asks nothing (`pulumi new` is not supported).
func (b *Base) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// ConfigEnv is the stack config and its secret keys as the SDKs read them from a program's
// environment (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS). Both must be JSON containers even when
// empty: the SDKs iterate them, and a nil Go map or slice would marshal to "null".
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
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
	return []string{"PULUMI_CONFIG=" + string(config), "PULUMI_CONFIG_SECRET_KEYS=" + string(secrets)}, nil
}
