package train

import (
	"encoding/json"

	"github.com/lepton-cli/lepton/internal/jsonfloat"
)

// epochJSON is the JSON form of EpochMetrics (in checkpoints' training
// state and in report.json): non-finite values are the strings "NaN",
// "+Inf" and "-Inf" (jsonfloat), finite ones plain numbers.
type epochJSON struct {
	Epoch        int             `json:"epoch"`
	TrainLoss    jsonfloat.Float `json:"train_loss"`
	TrainAcc     jsonfloat.Float `json:"train_acc"`
	ValLoss      jsonfloat.Float `json:"val_loss"`
	ValAcc       jsonfloat.Float `json:"val_acc"`
	LR           jsonfloat.Float `json:"lr"`
	Seconds      jsonfloat.Float `json:"seconds"`
	TrainSeconds jsonfloat.Float `json:"train_seconds"`
}

// MarshalJSON implements json.Marshaler.
func (m EpochMetrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochJSON{
		Epoch: m.Epoch, TrainLoss: jsonfloat.Float(m.TrainLoss), TrainAcc: jsonfloat.Float(m.TrainAcc),
		ValLoss: jsonfloat.Float(m.ValLoss), ValAcc: jsonfloat.Float(m.ValAcc), LR: jsonfloat.Float(m.LR),
		Seconds: jsonfloat.Float(m.Seconds), TrainSeconds: jsonfloat.Float(m.TrainSeconds),
	})
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *EpochMetrics) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = EpochMetrics{
		Epoch: j.Epoch, TrainLoss: float64(j.TrainLoss), TrainAcc: float64(j.TrainAcc),
		ValLoss: float64(j.ValLoss), ValAcc: float64(j.ValAcc), LR: float64(j.LR),
		Seconds: float64(j.Seconds), TrainSeconds: float64(j.TrainSeconds),
	}
	return nil
}

// earlyJSON is the JSON form of EarlyStopping in checkpoints.
type earlyJSON struct {
	Monitor  string          `json:"monitor"`
	Patience int             `json:"patience"`
	MinDelta jsonfloat.Float `json:"min_delta"`
	Best     jsonfloat.Float `json:"best"`
	Seen     bool            `json:"seen"`
	Bad      int             `json:"bad"`
}

// MarshalJSON implements json.Marshaler.
func (e EarlyStopping) MarshalJSON() ([]byte, error) {
	return json.Marshal(earlyJSON{Monitor: e.Monitor, Patience: e.Patience, MinDelta: jsonfloat.Float(e.MinDelta),
		Best: jsonfloat.Float(e.Best), Seen: e.Seen, Bad: e.Bad})
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *EarlyStopping) UnmarshalJSON(b []byte) error {
	var j earlyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = EarlyStopping{Monitor: j.Monitor, Patience: j.Patience, MinDelta: float64(j.MinDelta),
		Best: float64(j.Best), Seen: j.Seen, Bad: j.Bad}
	return nil
}
