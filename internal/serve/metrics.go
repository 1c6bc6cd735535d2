package serve

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, in a registry of their
// own (so that several servers can live in one test process).
type metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec   // model, route, method, code
	duration       *prometheus.HistogramVec // model, route, method, code
	inFlight       prometheus.Gauge
	batchSize      *prometheus.HistogramVec // model
	forward        *prometheus.HistogramVec // model
	reloads        *prometheus.CounterVec   // model
	reloadFailures *prometheus.CounterVec   // model
	modelInfo      *prometheus.GaugeVec     // model, version
	panics         prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lepton_http_requests_total",
			Help: "HTTP requests answered, by model, route, method and status code.",
		}, []string{"model", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lepton_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by model, route, method and status code.",
			Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, .512, 1, 2, 5},
		}, []string{"model", "route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lepton_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lepton_batch_size",
			Help:    "Images per forward pass.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}, []string{"model"}),
		forward: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lepton_inference_duration_seconds",
			Help:    "Time of one batched forward pass.",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .004, .008, .016, .032, .064, .128},
		}, []string{"model"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lepton_model_reloads_total",
			Help: "Checkpoints reloaded and published.",
		}, []string{"model"}),
		reloadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lepton_model_reload_failures_total",
			Help: "Reloads refused (unreadable or corrupt checkpoint); the old model kept serving.",
		}, []string{"model"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lepton_model_info",
			Help: "The version (checkpoint digest prefix) each model serves; always 1.",
		}, []string{"model", "version"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lepton_panics_total",
			Help: "Panics recovered in handlers and inference (each answered 500).",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.batchSize, m.forward,
		m.reloads, m.reloadFailures, m.modelInfo, m.panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// queueDepth registers the depth gauge of a model's queue.
func (m *metrics) queueDepth(model string, b *batcher) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "lepton_queue_depth",
		Help:        "Requests waiting for a forward pass.",
		ConstLabels: prometheus.Labels{"model": model},
	}, func() float64 { return float64(len(b.queue)) }))
}

// instrument wraps h with promhttp's request counter, latency histogram
// and in-flight gauge, labelled with the model ("" for none) and route.
func (m *metrics) instrument(model, route string, h http.Handler) http.Handler {
	l := prometheus.Labels{"model": model, "route": route}
	return promhttp.InstrumentHandlerInFlight(m.inFlight,
		promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(l),
			promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(l), h)))
}

// handler serves /metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
