package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/predict"
)

// bombPNG is a PNG whose header claims w x h pixels and holds no data.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// multipartBody builds a multipart/form-data body of files.
func multipartBody(t testing.TB, files map[string][]byte, order ...string) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("note", "a plain field, ignored")
	for _, name := range order {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	mw.Close()
	return mw.FormDataContentType(), &b
}

func TestEndpoints(t *testing.T) {
	path := toyCheckpoint(t, 1)
	srv := start(t, Options{Models: []ModelSpec{{Path: path}}, MaxImages: 4, MaxBodyBytes: 200_000, MaxPixels: 1 << 20})
	version := srv.srv.reg.entries["toy"].cur.Load().Version
	img := testImage(1)
	mpType, mpBody := multipartBody(t, map[string][]byte{"a.png": pngBytes(t, img), "b.png": pngBytes(t, testImage(2))}, "a.png", "b.png")
	bombType, bombBody := multipartBody(t, map[string][]byte{"bomb.png": bombPNG(100000, 100000)}, "bomb.png")
	fiveImages := fp32Body(img, img, img, img, img)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		code        int
		want        string // substring of the body
	}{
		{name: "live", method: "GET", path: "/v2/health/live", code: 200, want: `{"live":true}`},
		{name: "ready", method: "GET", path: "/v2/health/ready", code: 200, want: `{"ready":true}`},
		{name: "server metadata", method: "GET", path: "/v2", code: 200, want: `"name":"lepton"`},
		{name: "model metadata", method: "GET", path: "/v2/models/toy", code: 200, want: `"inputs":[{"name":"input","datatype":"FP32","shape":[-1,3072]},{"name":"input","datatype":"UINT8","shape":[-1,32,32,3]}]`},
		{name: "model metadata classes", method: "GET", path: "/v2/models/toy", code: 200, want: `"classes":["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"]`},
		{name: "versioned metadata", method: "GET", path: "/v2/models/toy/versions/" + version, code: 200, want: `"versions":["` + version + `"]`},
		{name: "unknown version", method: "GET", path: "/v2/models/toy/versions/nope", code: 404, want: `has no version \"nope\"`},
		{name: "model ready", method: "GET", path: "/v2/models/toy/ready", code: 200, want: `{"name":"toy","ready":true}`},
		{name: "infer FP32", method: "POST", path: "/v2/models/toy/infer", body: fp32Body(img), code: 200, want: `"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,10],"data":[`},
		{name: "infer versioned", method: "POST", path: "/v2/models/toy/versions/" + version + "/infer", body: fp32Body(img), code: 200, want: `"model_version":"` + version + `"`},
		{name: "infer UINT8 two images", method: "POST", path: "/v2/models/toy/infer", body: uint8Body(img, img), code: 200, want: `"shape":[2,10]`},
		{name: "infer logits and id", method: "POST", path: "/v2/models/toy/infer",
			body: strings.Replace(fp32Body(img), `{"inputs"`, `{"id":"42","outputs":[{"name":"logits"},{"name":"probabilities"}],"inputs"`, 1),
			code: 200, want: `"id":"42","outputs":[{"name":"logits"`},
		{name: "predict PNG", method: "POST", path: "/v1/models/toy/predict", contentType: "image/png", body: string(pngBytes(t, img)), code: 200, want: `{"path":"-","top":[{"class":`},
		{name: "predict multipart", method: "POST", path: "/v1/models/toy/predict?top_k=2&logits=true", contentType: mpType, body: mpBody.String(), code: 200, want: `{"path":"b.png","top":[{"class":`},
		{name: "metrics", method: "GET", path: "/metrics", code: 200, want: "lepton_batch_size_bucket"},

		{name: "unknown model", method: "POST", path: "/v2/models/nope/infer", body: fp32Body(img), code: 404, want: `model \"nope\" not found`},
		{name: "unknown model v1", method: "POST", path: "/v1/models/nope/predict", code: 404, want: `model \"nope\" not found`},
		{name: "unknown path", method: "GET", path: "/v3", code: 404, want: `no endpoint /v3`},
		{name: "GET infer", method: "GET", path: "/v2/models/toy/infer", code: 405, want: `method GET not allowed`},
		{name: "POST metadata", method: "POST", path: "/v2/models/toy", code: 405, want: `allowed: GET, HEAD`},
		{name: "DELETE ready", method: "DELETE", path: "/v2/health/ready", code: 405, want: `not allowed`},
		{name: "PUT predict", method: "PUT", path: "/v1/models/toy/predict", code: 405, want: `not allowed`},
		{name: "truncated JSON", method: "POST", path: "/v2/models/toy/infer", body: fp32Body(img)[:1000], code: 400, want: `invalid JSON at byte 1000: unexpected end of input`},
		{name: "wrong shape", method: "POST", path: "/v2/models/toy/infer", body: strings.Replace(fp32Body(img), "[1,3072]", "[1,3071]", 1), code: 400, want: `inputs[0].shape: FP32 is [1 3071], want [N, 3072]`},
		{name: "data does not fill shape", method: "POST", path: "/v2/models/toy/infer", body: strings.Replace(fp32Body(img), "[1,3072]", "[2,3072]", 1), code: 400, want: `inputs[0].data: 3072 values, shape [2 3072] needs 6144`},
		{name: "wrong datatype", method: "POST", path: "/v2/models/toy/infer", body: strings.Replace(fp32Body(img), "FP32", "INT64", 1), code: 400, want: `datatype: \"INT64\", want FP32 or UINT8`},
		{name: "wrong input name", method: "POST", path: "/v2/models/toy/infer", body: strings.Replace(fp32Body(img), `"input"`, `"x"`, 1), code: 400, want: `inputs[0].name: \"x\", the model's input is \"input\"`},
		{name: "unknown output", method: "POST", path: "/v2/models/toy/infer", body: strings.Replace(fp32Body(img), `{"inputs"`, `{"outputs":[{"name":"embedding"}],"inputs"`, 1), code: 400, want: `outputs[0].name: \"embedding\"`},
		{name: "UINT8 out of range", method: "POST", path: "/v2/models/toy/infer", body: `{"inputs":[{"name":"input","datatype":"UINT8","shape":[1,32,32,3],"data":[0,256` + strings.Repeat(",0", 3070) + `]}]}`, code: 400, want: `data[1]: 256 is not a UINT8`},
		{name: "no image", method: "POST", path: "/v2/models/toy/infer", body: `{"inputs":[{"name":"input","shape":[0,3072],"datatype":"FP32","data":[]}]}`, code: 400, want: `holds no image`},
		{name: "too many images", method: "POST", path: "/v2/models/toy/infer", body: fiveImages, code: 413, want: `too many tensor values`},
		{name: "body over the limit", method: "POST", path: "/v2/models/toy/infer", body: strings.Repeat(" ", 200_001), code: 413, want: `over the 200000-byte limit`},
		{name: "predict not an image", method: "POST", path: "/v1/models/toy/predict", contentType: "image/png", body: "hello", code: 400, want: `image \"-\": image: unknown format`},
		{name: "predict empty", method: "POST", path: "/v1/models/toy/predict", contentType: "image/png", code: 400, want: `empty file`},
		{name: "predict header bomb", method: "POST", path: "/v1/models/toy/predict", contentType: bombType, body: bombBody.String(), code: 413, want: `image \"bomb.png\": image is 100000x100000 pixels`},
		{name: "predict JSON body", method: "POST", path: "/v1/models/toy/predict", contentType: "application/json", body: "{}", code: 415, want: `send an image`},
		{name: "predict bad top_k", method: "POST", path: "/v1/models/toy/predict?top_k=0", contentType: "image/png", body: string(pngBytes(t, img)), code: 400, want: `top_k=\"0\"`},
		{name: "predict no file", method: "POST", path: "/v1/models/toy/predict", contentType: "multipart/form-data; boundary=x", body: "--x--\r\n", code: 400, want: `no image file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			code, b := do(t, tc.method, srv.url+tc.path, tc.contentType, body)
			if code != tc.code || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%s %s: %d %s\nwant %d with %q", tc.method, tc.path, code, b, tc.code, tc.want)
			}
			if code >= 400 {
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
					t.Fatalf("error body %q is not {\"error\": ...}", b)
				}
			}
		})
	}
	if got := metric(t, srv.url, `lepton_http_requests_total{code="413",method="post",model="toy",route="infer"}`); got != 2 {
		t.Errorf("413 infer requests counted %v, want 2", got)
	}
}

// TestInferMatchesClassifier checks the served probabilities and logits
// against the classifier run directly, for FP32 and UINT8 inputs, and the
// /v1 answer against predict's JSON.
func TestInferMatchesClassifier(t *testing.T) {
	path := toyCheckpoint(t, 5)
	srv := start(t, Options{Models: []ModelSpec{{Name: "m", Path: path}}})
	net, _, err := classifier.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	images := [][]byte{testImage(1), testImage(2), testImage(3)}
	want := make([][]float32, len(images))
	err = net.Logits(context.Background(), len(images),
		func(i int, dst []float32) { net.Stats.Normalize(dst, images[i]) },
		func(i int, l []float32) { want[i] = append([]float32(nil), l...) })
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{fp32Body(images...), uint8Body(images...)} {
		body = strings.Replace(body, `{"inputs"`, `{"outputs":[{"name":"probabilities"},{"name":"logits"}],"inputs"`, 1)
		code, b := do(t, "POST", srv.url+"/v2/models/m/infer", "", strings.NewReader(body))
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		r := decodeResponse(t, b)
		probs, logits := r.Outputs[0].Data, r.Outputs[1].Data
		for i := range images {
			p := model.Softmax(want[i])
			for c := range p {
				if got := logits[i*10+c]; float32(got) != want[i][c] {
					t.Fatalf("image %d logit %d: %v, want %v", i, c, got, want[i][c])
				}
				if got := probs[i*10+c]; float32(got) != float32(p[c]) {
					t.Fatalf("image %d probability %d: %v, want %v", i, c, got, p[c])
				}
			}
		}
	}
	mpType, mpBody := multipartBody(t, map[string][]byte{"x.png": pngBytes(t, images[0])}, "x.png")
	code, b := do(t, "POST", srv.url+"/v1/models/m/predict?top_k=10&logits=1", mpType, mpBody)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	wantRes := predict.Result{Path: "x.png", Top: predict.Top(net.Classes, want[0], 10), Logits: want[0]}
	wantJSON, _ := json.Marshal(wantRes)
	if string(b) != string(wantJSON)+"\n" {
		t.Fatalf("predict answered\n%s\nwant\n%s", b, wantJSON)
	}
	if s := predict.Top(net.Classes, want[0], 1)[0].Probability; math.IsNaN(s) {
		t.Fatal("NaN probability")
	}
}

// TestPanicRecovery checks that a panicking handler is a logged, counted
// 500 and that the server keeps serving, and that a panic inside a
// forward pass fails only its batch.
func TestPanicRecovery(t *testing.T) {
	path := toyCheckpoint(t, 1)
	var panicky atomic.Bool
	panicky.Store(true)
	srv := start(t, Options{Models: []ModelSpec{{Path: path}}, forward: func(m *Model, rows int, fill func(int, []float32), out func(int, []float32)) error {
		if panicky.Load() {
			panic("boom in the forward pass")
		}
		return runNet(m, rows, fill, out)
	}})
	code, b := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(fp32Body(testImage(1))))
	if code != 500 || !strings.Contains(string(b), "boom in the forward pass") {
		t.Fatalf("forward panic answered %d %s, want 500", code, b)
	}
	panicky.Store(false)
	if code, b := do(t, "POST", srv.url+"/v2/models/toy/infer", "", strings.NewReader(fp32Body(testImage(1)))); code != 200 {
		t.Fatalf("after a panic: %d %s", code, b)
	}

	h := srv.srv.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom in a handler") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `{"error":"internal error"}`) {
		t.Fatalf("handler panic answered %d %s", rec.Code, rec.Body)
	}
	if got := metric(t, srv.url, "lepton_panics_total"); got != 2 {
		t.Errorf("lepton_panics_total %v, want 2", got)
	}
	if logs := srv.logs.String(); !strings.Contains(logs, "boom in a handler") || !strings.Contains(logs, "boom in the forward pass") {
		t.Errorf("panics not logged:\n%s", logs)
	}
	if code, _ := do(t, "GET", srv.url+"/v2/health/live", "", nil); code != 200 {
		t.Fatalf("server not live after panics: %d", code)
	}
}

func TestAuth(t *testing.T) {
	path := toyCheckpoint(t, 1)
	tokenFile := t.TempDir() + "/tokens"
	if err := writeFile(tokenFile, "# comment\nsecret-1\n\n  secret-2  \n"); err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	srv := start(t, Options{Models: []ModelSpec{{Path: path}}, TokenFile: tokenFile, Reload: hup})
	tests := []struct {
		name, method, path, auth string
		code                     int
	}{
		{name: "live is open", method: "GET", path: "/v2/health/live", code: 200},
		{name: "ready is open", method: "GET", path: "/v2/health/ready", code: 200},
		{name: "metadata without a token", method: "GET", path: "/v2/models/toy", code: 401},
		{name: "metrics without a token", method: "GET", path: "/metrics", code: 401},
		{name: "infer with a wrong token", method: "POST", path: "/v2/models/toy/infer", auth: "Bearer secret-3", code: 401},
		{name: "infer with a prefix of a token", method: "POST", path: "/v2/models/toy/infer", auth: "Bearer secret-", code: 401},
		{name: "basic auth", method: "GET", path: "/v2", auth: "Basic c2VjcmV0LTE=", code: 401},
		{name: "unknown path without a token", method: "GET", path: "/v2/models/nope", code: 401},
		{name: "first token", method: "POST", path: "/v2/models/toy/infer", auth: "Bearer secret-1", code: 200},
		{name: "second token", method: "GET", path: "/v2/models/toy", auth: "Bearer secret-2", code: 200},
		{name: "metrics with a token", method: "GET", path: "/metrics", auth: "Bearer secret-2", code: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(fp32Body(testImage(1)))
			}
			code, b := do(t, tc.method, srv.url+tc.path, "", body, "Authorization", tc.auth)
			if code != tc.code {
				t.Fatalf("%d %s, want %d", code, b, tc.code)
			}
		})
	}
	// SIGHUP rereads the token file.
	if err := writeFile(tokenFile, "rotated\n"); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	waitFor(t, "the rotated token", func() bool {
		code, _ := do(t, "GET", srv.url+"/v2", "", nil, "Authorization", "Bearer rotated")
		return code == 200
	})
	if code, _ := do(t, "GET", srv.url+"/v2", "", nil, "Authorization", "Bearer secret-1"); code != 401 {
		t.Fatalf("an old token still works after the rotation: %d", code)
	}
}

// TestOtherGeometry serves a model fitted to 8x6 grey images with three
// classes: the metadata, the V2 shapes and the /v1 resize follow the
// checkpoint, nothing assumes CIFAR-10.
func TestOtherGeometry(t *testing.T) {
	cfg := config.Default()
	cfg.Name = "grey"
	cfg.Data.ImageSize, cfg.Data.Channels = []int{8, 6}, 1
	cfg.Model.Input, cfg.Model.Classes, cfg.Model.Hidden = 48, 3, []int{4}
	p, err := model.NewParams(cfg.Model.Spec(), 3)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, &cfg, p, data.Geometry{Height: 8, Width: 6, Channels: 1}, data.Stats{Mean: []float32{0.5}, Std: []float32{0.25}}, []string{"a", "b", "c"})
	path := filepath.Join(t.TempDir(), "grey.safetensors")
	writeCheckpoint(t, path, m)
	srv := start(t, Options{Models: []ModelSpec{{Path: path}}})
	code, b := do(t, "GET", srv.url+"/v2/models/grey", "", nil)
	want := `"inputs":[{"name":"input","datatype":"FP32","shape":[-1,48]},{"name":"input","datatype":"UINT8","shape":[-1,8,6,1]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,3]}`
	if code != 200 || !strings.Contains(string(b), want) || !strings.Contains(string(b), `"classes":["a","b","c"]`) {
		t.Fatalf("metadata %d %s", code, b)
	}
	pixels := strings.TrimSuffix(strings.Repeat("7,", 48), ",")
	code, b = do(t, "POST", srv.url+"/v2/models/grey/infer", "", strings.NewReader(`{"inputs":[{"name":"input","datatype":"UINT8","shape":[1,8,6,1],"data":[`+pixels+`]}]}`))
	if code != 200 || !strings.Contains(string(b), `"shape":[1,3]`) {
		t.Fatalf("infer %d %s", code, b)
	}
	code, b = do(t, "POST", srv.url+"/v1/models/grey/predict?top_k=5", "image/png", bytes.NewReader(pngBytes(t, testImage(1))))
	if code != 200 || strings.Count(string(b), `"class"`) != 3 {
		t.Fatalf("predict %d %s", code, b)
	}
}
