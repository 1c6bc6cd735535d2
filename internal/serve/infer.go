package serve

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/lepton-cli/lepton/internal/model"
)

// infer answers POST /v2/models/{name}/infer.
func (s *server) infer(w http.ResponseWriter, r *http.Request, e *entry, m *Model) {
	bp, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer s.putBody(bp)

	// Until the job is submitted, the batcher may wait for this request.
	b := e.batcher
	b.arriving.Add(1)
	plan, err := s.parseInfer(*bp, m, r)
	if err != nil {
		b.arriving.Add(-1)
		s.fail(w, r, err)
		return
	}
	b.arriving.Add(-1) // before submit: the batcher must not wait for this request itself
	if !b.runIdle(plan.job) {
		if err := b.submit(plan.job); err != nil {
			plan.job.release()
			s.fail(w, r, errorf(http.StatusServiceUnavailable, "%v", err))
			return
		}
	}
	if keep, err := s.wait(e, plan.job); err != nil {
		if keep {
			plan.job.release()
		}
		s.fail(w, r, err)
		return
	}
	defer plan.job.release()
	s.writeInfer(w, r, m, plan)
}

// inferPlan is a checked V2 request: its job and what to answer.
type inferPlan struct {
	job     *job
	outputs []string
	id      string
	hasID   bool
}

// parseInfer decodes and checks a V2 request and returns its job, with the
// input normalized, and the outputs to answer.
func (s *server) parseInfer(body []byte, m *Model, r *http.Request) (inferPlan, error) {
	req, _ := s.reqs.Get().(*inferRequest)
	if req == nil {
		req = &inferRequest{}
	}
	defer s.reqs.Put(req)
	g := m.Geometry
	if err := decodeInfer(body, req, s.opts.MaxImages*g.Size()); err != nil {
		if errors.Is(err, errTooManyValues) {
			return inferPlan{}, errorf(http.StatusRequestEntityTooLarge, "%v (at most %d images of %d values)", err, s.opts.MaxImages, g.Size())
		}
		return inferPlan{}, errorf(http.StatusBadRequest, "%v", err)
	}
	if req.name != inputName {
		return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].name: %q, the model's input is %q", req.name, inputName)
	}
	var want []int64
	switch req.datatype {
	case typeFP32:
		want = []int64{-1, int64(g.Size())}
	case typeUINT8:
		want = []int64{-1, int64(g.Height), int64(g.Width), int64(g.Channels)}
	default:
		return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].datatype: %q, want %s or %s", req.datatype, typeFP32, typeUINT8)
	}
	if !shapeMatches(req.shape, want) {
		return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].shape: %s is %v, want %s",
			req.datatype, req.shape, shapeString(want))
	}
	n := req.shape[0]
	if n == 0 {
		return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].shape: %v holds no image", req.shape)
	}
	if n > int64(s.opts.MaxImages) {
		return inferPlan{}, errorf(http.StatusRequestEntityTooLarge, "inputs[0].shape: %d images, at most %d per request", n, s.opts.MaxImages)
	}
	rows := int(n)
	if len(req.data) != rows*g.Size() {
		return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].data: %d values, shape %v needs %d", len(req.data), req.shape, rows*g.Size())
	}
	var outputs []string
	for i, o := range req.outputs {
		if o != outputProbs && o != outputLogits {
			return inferPlan{}, errorf(http.StatusBadRequest, "outputs[%d].name: %q, want %q or %q", i, o, outputProbs, outputLogits)
		}
		outputs = append(outputs, o)
	}
	if len(outputs) == 0 {
		outputs = defaultOutputs
	}
	if req.datatype == typeUINT8 {
		if err := checkUint8(req.data); err != nil {
			return inferPlan{}, errorf(http.StatusBadRequest, "inputs[0].%v", err)
		}
	}
	j := newJob(r.Context(), m, rows)
	if req.datatype == typeFP32 {
		normalizeFP32(j.x, req.data, m)
	} else {
		s.normalizeUINT8(j.x, req.data, m, rows)
	}
	plan := inferPlan{job: j, outputs: outputs, hasID: req.hasID}
	if req.hasID {
		plan.id = string(req.id)
	}
	return plan, nil
}

var defaultOutputs = []string{outputProbs}

func shapeMatches(got, want []int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

func shapeString(s []int64) string {
	b := []byte{'['}
	for i, d := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		if d < 0 {
			b = append(b, 'N')
		} else {
			b = strconv.AppendInt(b, d, 10)
		}
	}
	return string(append(b, ']'))
}

// normalizeFP32 writes (x - mean[c]) / std[c] for planar pixels x in
// [0,1], as the data package normalizes bytes/255 (a zero std counts as 1).
func normalizeFP32(dst, x []float32, m *Model) {
	st := m.net.Stats
	plane, in := m.Geometry.Plane(), m.Geometry.Size()
	for off := 0; off < len(x); off += in {
		for c := range m.Geometry.Channels {
			// As data.Stats.Normalize: a missing mean is 0, a missing or
			// zero std is 1.
			var mean, std float32 = 0, 1
			if c < len(st.Mean) {
				mean = st.Mean[c]
			}
			if c < len(st.Std) && st.Std[c] != 0 {
				std = st.Std[c]
			}
			lo := off + c*plane
			src, d := x[lo:lo+plane], dst[lo:lo+plane]
			for i, v := range src {
				d[i] = (v - mean) / std
			}
		}
	}
}

// normalizeUINT8 converts [N, H, W, C] bytes to the planar layout and
// normalizes them with the model's own Stats.Normalize.
func (s *server) normalizeUINT8(dst, data []float32, m *Model, rows int) {
	g := m.Geometry
	in, plane := g.Size(), g.Plane()
	pp, _ := s.pixels.Get().(*[]byte)
	if pp == nil {
		pp = new([]byte)
	}
	if cap(*pp) < in {
		*pp = make([]byte, in)
	}
	chw := (*pp)[:in]
	for r := range rows {
		src := data[r*in : (r+1)*in]
		for p := range plane {
			for c := range g.Channels {
				chw[c*plane+p] = byte(src[p*g.Channels+c])
			}
		}
		m.net.Stats.Normalize(dst[r*in:(r+1)*in], chw)
	}
	s.pixels.Put(pp)
}

// writeInfer answers a V2 inference response.
func (s *server) writeInfer(w http.ResponseWriter, r *http.Request, m *Model, plan inferPlan) {
	j, k := plan.job, len(m.Classes)
	for _, v := range j.logits[:j.rows*k] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			s.fail(w, r, errors.New("the model produced a non-finite logit"))
			return
		}
	}
	bp, _ := s.bodies.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := append((*bp)[:0], `{"model_name":"`...)
	b = append(b, m.Name...)
	b = append(b, `","model_version":"`...)
	b = append(b, m.Version...)
	b = append(b, '"')
	if plan.hasID {
		id, _ := json.Marshal(plan.id)
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	b = append(b, `,"outputs":[`...)
	for oi, name := range plan.outputs {
		if oi > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":"`...)
		b = append(b, name...)
		b = append(b, `","datatype":"FP32","shape":[`...)
		b = strconv.AppendInt(b, int64(j.rows), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, `],"data":[`...)
		for row := range j.rows {
			logits := j.logits[row*k : (row+1)*k]
			if name == outputLogits {
				for i, v := range logits {
					b = appendSep(b, row, i)
					b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
				}
				continue
			}
			for i, p := range model.Softmax(logits) {
				b = appendSep(b, row, i)
				b = strconv.AppendFloat(b, float64(float32(p)), 'g', -1, 32)
			}
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	*bp = b
	s.putBody(bp)
}

func appendSep(b []byte, row, i int) []byte {
	if row > 0 || i > 0 {
		b = append(b, ',')
	}
	return b
}
