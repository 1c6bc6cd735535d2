package serve

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// inferVersion posts one image and returns the answering version and the
// first probability.
func inferVersion(t *testing.T, url string) (string, float64) {
	t.Helper()
	code, b := do(t, "POST", url+"/v2/models/toy/infer", "", strings.NewReader(fp32Body(testImage(1))))
	if code != 200 {
		t.Fatalf("infer: %d %s", code, b)
	}
	r := decodeResponse(t, b)
	return r.ModelVersion, r.Outputs[0].Data[0]
}

func TestReload(t *testing.T) {
	tests := []struct {
		name  string
		watch bool // reload by file watching instead of SIGHUP
	}{
		{name: "SIGHUP"},
		{name: "file change", watch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			writeCheckpoint(t, path, toyModel(t, 1))
			hup := make(chan os.Signal, 1)
			srv := start(t, Options{Models: []ModelSpec{{Name: "toy", Path: path}}, Reload: hup, Watch: tc.watch})
			v1, p1 := inferVersion(t, srv.url)
			trigger := func() {
				if !tc.watch {
					hup <- syscall.SIGHUP
				}
			}
			failures := func() float64 { return metric(t, srv.url, `lepton_model_reload_failures_total{model="toy"}`) }
			reloads := func() float64 { return metric(t, srv.url, `lepton_model_reloads_total{model="toy"}`) }

			// A good checkpoint replaces the model.
			other := filepath.Join(t.TempDir(), "other.safetensors")
			writeCheckpoint(t, other, toyModel(t, 2))
			good, err := os.ReadFile(other)
			if err != nil {
				t.Fatal(err)
			}
			writeFileAtomic(t, path, good)
			trigger()
			waitFor(t, "the new version", func() bool { v, _ := inferVersion(t, srv.url); return v != v1 })
			v2, p2 := inferVersion(t, srv.url)
			if p2 == p1 {
				t.Fatalf("version changed (%s -> %s) but the answer did not", v1, v2)
			}
			if got := reloads(); got != 1 {
				t.Errorf("lepton_model_reloads_total %v, want 1", got)
			}

			// A corrupt checkpoint (one flipped data byte) is refused and
			// counted; the last good model keeps serving.
			bad := append([]byte(nil), good...)
			bad[len(bad)-10] ^= 0xff
			writeFileAtomic(t, path, bad)
			trigger()
			waitFor(t, "the refused reload", func() bool { return failures() == 1 })
			if v, p := inferVersion(t, srv.url); v != v2 || p != p2 {
				t.Fatalf("after a corrupt reload: version %s p %v, want %s %v", v, p, v2, p2)
			}
			if !strings.Contains(srv.logs.String(), "reload refused, the old model keeps serving") ||
				!strings.Contains(srv.logs.String(), "corrupt checkpoint") {
				t.Errorf("refused reload not logged:\n%s", srv.logs)
			}
			if tc.watch {
				// Other files changing in the directory (a log, say) do not
				// retry the refused file.
				other := filepath.Join(filepath.Dir(path), "serve.log")
				for i := range 5 {
					os.WriteFile(other, []byte(strings.Repeat("x", i)), 0o644)
					time.Sleep(settle)
				}
				if got := failures(); got != 1 {
					t.Fatalf("the refused checkpoint was retried: %v failures", got)
				}
			}
			if code, _ := do(t, "GET", srv.url+"/v2/health/ready", "", nil); code != 200 {
				t.Fatalf("not ready after a refused reload: %d", code)
			}
			if got := metric(t, srv.url, `lepton_model_info{model="toy",version="`+v2+`"}`); got != 1 {
				t.Errorf("lepton_model_info for %s = %v, want 1", v2, got)
			}
		})
	}
}

// TestReloadUnchanged checks that a SIGHUP with an unchanged file keeps
// the loaded model (digest check) and counts nothing.
func TestReloadUnchanged(t *testing.T) {
	path := toyCheckpoint(t, 1)
	hup := make(chan os.Signal, 1)
	srv := start(t, Options{Models: []ModelSpec{{Path: path}}, Reload: hup})
	before := srv.srv.reg.entries["toy"].cur.Load()
	hup <- syscall.SIGHUP
	waitFor(t, "the unchanged reload", func() bool { return strings.Contains(srv.logs.String(), "checkpoint unchanged") })
	if srv.srv.reg.entries["toy"].cur.Load() != before {
		t.Fatal("an unchanged checkpoint was loaded again")
	}
	if got := metric(t, srv.url, `lepton_model_reloads_total{model="toy"}`); got > 0 {
		t.Fatalf("reloads counted: %v", got)
	}
}

// TestStartErrors checks that a server does not start with a bad model.
func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("not a checkpoint"), 0o644)
	good := toyCheckpoint(t, 1)
	tests := []struct {
		name   string
		models []ModelSpec
		want   string
	}{
		{name: "missing file", models: []ModelSpec{{Path: filepath.Join(dir, "nope")}}, want: "no such file"},
		{name: "corrupt file", models: []ModelSpec{{Path: garbage}}, want: "corrupt checkpoint"},
		{name: "duplicate name", models: []ModelSpec{{Path: good}, {Path: good}}, want: `model name "toy" given twice`},
		{name: "bad name", models: []ModelSpec{{Name: "a/b", Path: good}}, want: `model name "a/b"`},
		{name: "no model", want: "no model to serve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(t.Context(), Options{Addr: "127.0.0.1:0", Models: tc.models})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
