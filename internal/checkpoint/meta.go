package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// formatName is the value of the "format" metadata entry.
const formatName = "lepton"

// Metadata keys.
const (
	keyFormat        = "format"
	keyFormatVersion = "format_version"
	keyConfig        = "config"
	keyModel         = "model"   // format 2
	keyClasses       = "classes" // format 1
	keyMean          = "mean"    // format 1
	keyStd           = "std"     // format 1
	keyEpoch         = "epoch"
	keyStep          = "step"
	keyMetrics       = "metrics"
	keyState         = "state"
	keyDataSHA       = "data_sha256"
	keyHeaderSHA     = "header_sha256"
)

// Size limits of the metadata, enforced by Save and Load alike so that every
// checkpoint Save writes can be loaded. A config of tens of MB would cost
// gigabytes in the YAML parser of every command that loads the checkpoint.
const (
	// MaxConfig is the largest stored config, in bytes (the limit of config
	// files too).
	MaxConfig = 1 << 20
	// MaxMetadata is the largest total size of all metadata keys and
	// values, in bytes: room for a training state with a history of tens of
	// thousands of epochs.
	MaxMetadata = 8 << 20
)

// checkMetaSize enforces MaxConfig and MaxMetadata on metadata entries
// (the two checksums, of fixed size, are not counted, so Save can check
// before adding them).
func checkMetaSize(md map[string]string) error {
	if n := len(md[keyConfig]); n > MaxConfig {
		return fmt.Errorf("config metadata is %d bytes, more than the %d allowed", n, MaxConfig)
	}
	total := 0
	for k, v := range md {
		if k != keyDataSHA && k != keyHeaderSHA {
			total += len(k) + len(v)
		}
	}
	if total > MaxMetadata {
		return fmt.Errorf("metadata is %d bytes, more than the %d allowed", total, MaxMetadata)
	}
	return nil
}

// metricValue is a float64 whose JSON form spells non-finite values as the
// strings "NaN", "+Inf" and "-Inf", which plain JSON numbers cannot express
// (a diverged run's loss must not make the checkpoint unsaveable).
type metricValue float64

// MarshalJSON implements json.Marshaler.
func (v metricValue) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *metricValue) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*v = metricValue(math.NaN())
		case "+Inf":
			*v = metricValue(math.Inf(1))
		case "-Inf":
			*v = metricValue(math.Inf(-1))
		default:
			return fmt.Errorf("metric value %q is not a number", s)
		}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*v = metricValue(f)
	return nil
}

// encodeMeta validates m and returns its metadata entries (without the
// checksums).
func encodeMeta(m *Meta) (map[string]string, error) {
	if m.FormatVersion != 0 && !slices.Contains(ReadVersions, m.FormatVersion) {
		return nil, fmt.Errorf("meta format_version is %d, this lepton writes version %d", m.FormatVersion, FormatVersion)
	}
	if !utf8.ValidString(m.Config) {
		return nil, errors.New("meta config is not valid UTF-8")
	}
	card, err := encodeCard(&m.Model)
	if err != nil {
		return nil, fmt.Errorf("meta %w", err)
	}
	if m.Epoch < 0 {
		return nil, fmt.Errorf("meta epoch %d is negative", m.Epoch)
	}
	if m.Step < 0 {
		return nil, fmt.Errorf("meta step %d is negative", m.Step)
	}
	if len(m.State) > 0 && !json.Valid(m.State) {
		return nil, errors.New("meta state is not valid JSON")
	}
	if len(m.State) > 0 && !utf8.Valid(m.State) {
		return nil, errors.New("meta state is not valid UTF-8")
	}

	metrics := make(map[string]metricValue, len(m.Metrics))
	for k, v := range m.Metrics {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("meta metric name %q is not valid UTF-8", k)
		}
		metrics[k] = metricValue(v)
	}
	metricsJSON, err := json.Marshal(metrics) // map keys are sorted: stable
	if err != nil {
		return nil, fmt.Errorf("encode meta metrics: %w", err)
	}

	md := map[string]string{
		keyFormat:        formatName,
		keyFormatVersion: strconv.Itoa(FormatVersion),
		keyConfig:        m.Config,
		keyModel:         card,
		keyEpoch:         strconv.Itoa(m.Epoch),
		keyStep:          strconv.FormatInt(m.Step, 10),
		keyMetrics:       string(metricsJSON),
	}
	if len(m.State) > 0 {
		md[keyState] = string(m.State)
	}
	if err := checkMetaSize(md); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	return md, nil
}

// checkFormat checks the format and format_version entries. It returns a
// message for ErrCorrupt, or errVersion for a version this build cannot
// read (it reads ReadVersions).
func checkFormat(md map[string]string) (corrupt string, errVersion error) {
	format, ok := md[keyFormat]
	if !ok {
		return `missing "format" metadata (not a lepton checkpoint)`, nil
	}
	if format != formatName {
		return fmt.Sprintf("format metadata is %q, want %q", format, formatName), nil
	}
	vs, ok := md[keyFormatVersion]
	if !ok {
		return `missing "format_version" metadata`, nil
	}
	v, err := strconv.Atoi(vs)
	if err != nil {
		return fmt.Sprintf("format_version metadata %q is not an integer", vs), nil
	}
	if !slices.Contains(ReadVersions, v) {
		return "", &detailError{
			kind: ErrVersion,
			msg:  fmt.Sprintf("checkpoint format version %d, this lepton reads versions %d to %d", v, ReadVersions[0], ReadVersions[len(ReadVersions)-1]),
		}
	}
	return "", nil
}

// decodeMeta parses the metadata entries other than format and the
// checksums, which the caller has verified (checkFormat accepted the
// version). A format 1 checkpoint's model card is derived from its config,
// class names and normalization.
func decodeMeta(md map[string]string) (Meta, error) {
	version, err := strconv.Atoi(md[keyFormatVersion])
	if err != nil {
		return Meta{}, fmt.Errorf("format_version metadata %q is not an integer", md[keyFormatVersion])
	}
	m := Meta{FormatVersion: version}
	get := func(key string) (string, error) {
		v, ok := md[key]
		if !ok {
			return "", fmt.Errorf("missing %q metadata", key)
		}
		return v, nil
	}
	if m.Config, err = get(keyConfig); err != nil {
		return Meta{}, err
	}
	if version == 1 {
		if m.Model, err = decodeFormat1Model(md, m.Config); err != nil {
			return Meta{}, err
		}
	} else {
		s, err := get(keyModel)
		if err != nil {
			return Meta{}, err
		}
		if m.Model, err = decodeCard(s); err != nil {
			return Meta{}, err
		}
	}

	s, err := get(keyEpoch)
	if err != nil {
		return Meta{}, err
	}
	epoch, err := parseCount(keyEpoch, s, strconv.IntSize)
	if err != nil {
		return Meta{}, err
	}
	m.Epoch = int(epoch)
	if s, err = get(keyStep); err != nil {
		return Meta{}, err
	}
	step, err := parseCount(keyStep, s, 64)
	if err != nil {
		return Meta{}, err
	}
	m.Step = step

	if s, err = get(keyMetrics); err != nil {
		return Meta{}, err
	}
	var metrics map[string]metricValue
	if err := json.Unmarshal([]byte(s), &metrics); err != nil {
		return Meta{}, fmt.Errorf("decode metrics metadata: %w", err)
	}
	if len(metrics) > 0 {
		m.Metrics = make(map[string]float64, len(metrics))
		for k, v := range metrics {
			m.Metrics[k] = float64(v)
		}
	}

	if s, ok := md[keyState]; ok {
		if !json.Valid([]byte(s)) {
			return Meta{}, errors.New("state metadata is not valid JSON")
		}
		m.State = json.RawMessage(s)
	}
	return m, nil
}

// decodeFormat1Model reads format 1's classes, mean and std entries (three
// values each) and derives the model card from them and the config.
func decodeFormat1Model(md map[string]string, config string) (ModelCard, error) {
	s, ok := md[keyClasses]
	if !ok {
		return ModelCard{}, fmt.Errorf("missing %q metadata", keyClasses)
	}
	var classes []string
	if err := json.Unmarshal([]byte(s), &classes); err != nil {
		return ModelCard{}, fmt.Errorf("decode classes metadata: %w", err)
	}
	var stats [2][]float32
	for i, key := range []string{keyMean, keyStd} {
		s, ok := md[key]
		if !ok {
			return ModelCard{}, fmt.Errorf("missing %q metadata", key)
		}
		if err := json.Unmarshal([]byte(s), &stats[i]); err != nil {
			return ModelCard{}, fmt.Errorf("decode %s metadata: %w", key, err)
		}
		if len(stats[i]) != 3 {
			return ModelCard{}, fmt.Errorf("%s metadata has %d values, want 3", key, len(stats[i]))
		}
	}
	return cardFromFormat1(config, classes, stats[0], stats[1])
}

// parseCount parses a non-negative decimal integer of the given bit size.
func parseCount(key, s string, bits int) (int64, error) {
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s metadata %q is not a non-negative integer", key, s)
	}
	return n, nil
}
