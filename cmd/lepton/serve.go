package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/serve"
)

// serveOptions are the flags of "lepton serve".
type serveOptions struct {
	Checkpoint   string
	Runs         string
	Name         string
	Models       []string // NAME=CHECKPOINT
	Server       serve.Options
	LogFormat    string
	LogLevel     string
	NoWatch      bool
	Threads      int
	maxBodyBytes int64
}

func newServeCmd(s *streams, runF func(*serveOptions) error) *cobra.Command {
	opts := &serveOptions{}
	d := serve.Defaults
	cmd := &cobra.Command{
		Use:   "serve [--checkpoint FILE] [--name NAME] [--addr HOST:PORT]",
		Short: "Serve models over HTTP (KServe V2 inference protocol)",
		Long: `Serve one or more checkpoints over HTTP: the KServe Open Inference Protocol
(V2) REST API, plus POST /v1/models/NAME/predict for image files.

  GET  /v2/health/live, /v2/health/ready    probes (never need a token)
  GET  /v2                                  server metadata
  GET  /v2/models/NAME[/versions/V]         model metadata: tensors, classes
  GET  /v2/models/NAME[/versions/V]/ready   model readiness
  POST /v2/models/NAME[/versions/V]/infer   input "input": FP32 [N, C*H*W] pixels/255
                                            (planar) or UINT8 [N, H, W, C]; outputs
                                            "probabilities" (default) and "logits"
  POST /v1/models/NAME/predict              image/* body or multipart files; JSON
                                            Lines as "lepton predict --output json"
                                            (?top_k=K, ?logits=true)
  GET  /metrics                             Prometheus metrics

Requests that arrive together share one forward pass (--max-batch,
--max-delay); a full queue answers 503. SIGHUP, or replacing a checkpoint
file, reloads it (its digests are checked; a corrupt file is refused and
the old model keeps serving). SIGTERM or SIGINT turns readiness off, waits
--drain-delay, lets in-flight requests finish and exits 0 (1 if
--drain-timeout runs out).

Logs go to stderr; the bound address is printed on stdout once the server
is ready, so --addr 127.0.0.1:0 picks a free port for scripts. The default
address is loopback only: use --addr 0.0.0.0:8080 to serve other hosts.`,
		Example: `  lepton serve --checkpoint runs/mlp/checkpoints/best.safetensors
  lepton serve --model mlp=runs/mlp/checkpoints/best.safetensors --model big=runs/best/checkpoints/best.safetensors
  lepton serve --checkpoint best.safetensors --addr 0.0.0.0:8080 --token-file /etc/lepton/token --log-format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			o, err := opts.resolve(s)
			if err != nil {
				return err
			}
			if opts.Threads > 0 {
				// The handlers still use every core; 0 keeps the
				// root's setting, every core for the kernels too.
				model.UseThreads(opts.Threads)
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			o.Reload = hup
			err = serve.Run(cmd.Context(), o)
			stopProfile() // --cpuprofile: flush it even when the exit is a drained error
			var me *serve.ModelError
			switch {
			case errors.As(err, &me):
				return checkpointError{err}
			case err == nil && cmd.Context().Err() != nil:
				return drainedError{} // drained after SIGTERM/SIGINT: exit 0
			}
			return err
		},
	}
	f := cmd.Flags()
	o := &opts.Server
	f.StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint `file` (or run directory: its best) to serve (default $LEPTON_CHECKPOINT, else the newest run's best)")
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.StringVar(&opts.Name, "name", "", "model `name` for --checkpoint (default: the name in its config)")
	f.StringArrayVar(&opts.Models, "model", nil, "serve `NAME=CHECKPOINT` (repeatable, instead of --checkpoint)")
	f.StringVar(&o.Addr, "addr", d.Addr, "`host:port` to listen on (port 0: any free port)")
	f.IntVar(&o.MaxBatch, "max-batch", d.MaxBatch, "most images per forward pass (1: no batching)")
	f.DurationVar(&o.MaxDelay, "max-delay", d.MaxDelay, "longest wait for more requests to join a batch (never when idle)")
	f.IntVar(&o.QueueSize, "queue", d.QueueSize, "requests waiting per model before answering 503")
	f.Int64Var(&opts.maxBodyBytes, "max-body", d.MaxBodyBytes, "request body limit in `bytes` (413 above)")
	f.IntVar(&o.MaxImages, "max-images", d.MaxImages, "images per request (413 above)")
	f.IntVar(&o.MaxPixels, "max-pixels", d.MaxPixels, "width*height limit of an uploaded image, read from its header (413 above)")
	f.DurationVar(&o.ReadHeaderTimeout, "read-header-timeout", d.ReadHeaderTimeout, "time to receive request headers")
	f.DurationVar(&o.ReadTimeout, "read-timeout", d.ReadTimeout, "time to receive a whole request (408 for a slow body)")
	f.DurationVar(&o.WriteTimeout, "write-timeout", d.WriteTimeout, "time to answer a request")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", d.IdleTimeout, "keep-alive connections idle longer are closed")
	f.DurationVar(&o.DrainDelay, "drain-delay", 0, "on SIGTERM, report not-ready this long before closing the listener")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", d.DrainTimeout, "on SIGTERM, the longest wait for in-flight requests")
	f.StringVar(&o.TokenFile, "token-file", "", "require a bearer token listed in `file` (one a line; reread on SIGHUP)")
	f.BoolVar(&opts.NoWatch, "no-watch", false, "do not reload when a checkpoint file changes (SIGHUP still does)")
	f.IntVar(&opts.Threads, "threads", 1, "matrix-multiply threads of a forward pass (0: all cores); under load the other cores decode requests")
	f.BoolVar(&o.LogRequests, "log-requests", false, "log one line per request")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log `format` on stderr: text or json")
	f.StringVar(&opts.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	return cmd
}

// resolve turns the flags into server options.
func (opts *serveOptions) resolve(s *streams) (serve.Options, error) {
	o := opts.Server
	o.MaxBodyBytes = opts.maxBodyBytes
	o.Watch = !opts.NoWatch
	o.Version = version
	o.Stdout = s.Out
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return o, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", opts.LogLevel)}
	}
	ho := &slog.HandlerOptions{Level: level}
	switch opts.LogFormat {
	case "text":
		o.Log = slog.New(slog.NewTextHandler(s.Err, ho))
	case "json":
		o.Log = slog.New(slog.NewJSONHandler(s.Err, ho))
	default:
		return o, usageError{fmt.Errorf("--log-format %q: want text or json", opts.LogFormat)}
	}
	for _, kv := range opts.Models {
		name, path, ok := strings.Cut(kv, "=")
		if !ok || name == "" || path == "" {
			return o, usageError{fmt.Errorf("--model %q: want NAME=CHECKPOINT", kv)}
		}
		if err := serve.CheckName(name); err != nil {
			return o, usageError{fmt.Errorf("--model %q: %w", kv, err)}
		}
		for _, m := range o.Models {
			if m.Name == name {
				return o, usageError{fmt.Errorf("--model: name %q given twice", name)}
			}
		}
		o.Models = append(o.Models, serve.ModelSpec{Name: name, Path: path})
	}
	switch {
	case len(opts.Models) > 0 && (opts.Checkpoint != "" || opts.Name != ""):
		return o, usageError{fmt.Errorf("--model cannot be combined with --checkpoint or --name")}
	case len(opts.Models) == 0:
		if opts.Name != "" {
			if err := serve.CheckName(opts.Name); err != nil {
				return o, usageError{fmt.Errorf("--name: %w", err)}
			}
		}
		path, err := resolveCheckpoint(s, checkpointSource{Flag: opts.Checkpoint, Runs: opts.Runs})
		if err != nil {
			return o, checkpointError{err}
		}

		o.Models = []serve.ModelSpec{{Name: opts.Name, Path: path}}
	}
	if err := o.Check(); err != nil {
		return o, usageError{err}
	}
	return o, nil
}
