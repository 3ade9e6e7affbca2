package neuron

import (
	"math"
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// RateNeuronModel is the rate neuron tau dr/dt = -r + f(h).
var RateNeuronModel = register(&Model{
	Name:    "rate",
	Code:    4,
	Summary: "rate neuron tau dr/dt = -r + f(sum_j W_ij r_j + I); f linear, relu, threshold-linear, sigmoid or tanh",
	Kind:    RateNeurons,
	State:   []string{"r"},
	Defaults: func() proto.Message {
		return &myelinpb.RateNeuron{
			Tau: proto.Float64(10), Transfer: myelinpb.RateNeuron_LINEAR,
			Gain: proto.Float64(1), Theta: proto.Float64(0), RMax: proto.Float64(1),
			IE: proto.Float64(0),
		}
	},
	Check: func(m proto.Message, c Checker) {
		p := m.(*myelinpb.RateNeuron)
		c.Positive("tau", p.Tau)
		c.Finite("gain", p.Gain)
		c.Finite("theta", p.Theta)
		c.Positive("r_max", p.RMax)
		c.Finite("i_e", p.IE)
		if _, ok := myelinpb.RateNeuron_Transfer_name[int32(p.Transfer)]; !ok {
			c.Fail("transfer", strconv.Itoa(int(p.Transfer)), "must be one of LINEAR, RELU, THRESHOLD_LINEAR, SIGMOID, TANH")
		}
	},
	Rest:         func(proto.Message) float64 { return 0 },
	Offset:       func(proto.Message) float64 { return 0 },
	RefractoryMs: func(proto.Message) float64 { return 0 },
	New: func(m proto.Message, dt float64) Coefficients {
		c := NewRate(m.(*myelinpb.RateNeuron), dt)
		return &c
	},
})

// Transfer function codes shared with kernels/rate.cuh.
const (
	TransferLinear          = 1
	TransferReLU            = 2
	TransferThresholdLinear = 3
	TransferSigmoid         = 4
	TransferTanh            = 5
)

// Rate holds the float32 coefficients of the rate neuron
// tau dr/dt = -r + f(h), h = sum_j W_ij r_j + I, integrated exactly for
// constant h over a step. Field order matches struct Rate in kernels/rate.cuh.
type Rate struct {
	P        float32 // exp(-h/tau)
	Q        float32 // 1 - exp(-h/tau)
	Gain     float32
	Theta    float32
	RMax     float32
	IE       float32
	Transfer int32
}

// NewRate computes the coefficients of p for step dt (ms).
func NewRate(p *myelinpb.RateNeuron, dt float64) Rate {
	tr := int32(p.GetTransfer())
	if tr == 0 {
		tr = TransferLinear
	}
	return Rate{
		P:        float32(math.Exp(-dt / p.GetTau())),
		Q:        float32(-math.Expm1(-dt / p.GetTau())),
		Gain:     float32(p.GetGain()),
		Theta:    float32(p.GetTheta()),
		RMax:     float32(p.GetRMax()),
		IE:       float32(p.GetIE()),
		Transfer: tr,
	}
}

// F is the transfer function f.
func (c *Rate) F(x float32) float32 {
	switch c.Transfer {
	case TransferReLU:
		if x < 0 {
			return 0
		}
		return float32(c.Gain * x)
	case TransferThresholdLinear:
		if x < c.Theta {
			return 0
		}
		return float32(c.Gain * float32(x-c.Theta))
	case TransferSigmoid:
		return c.RMax / float32(1+Expf(float32(-c.Gain*float32(x-c.Theta))))
	case TransferTanh:
		return 1 - 2/float32(Expf(float32(2*float32(c.Gain*float32(x-c.Theta))))+1)
	default:
		return float32(c.Gain * x)
	}
}

// Step advances one rate neuron: r the rate, syn the summed recurrent input
// sum_j W_ij r_j, iext the external input.
func (c *Rate) Step(r, syn, iext float32) float32 {
	h := syn + c.IE + iext
	return float32(c.P*r) + float32(c.Q*c.F(h))
}
