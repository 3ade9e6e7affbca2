package analysis

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Summary formats the statistics as an aligned text table with the columns
// population, neurons, spikes, rate Hz, CV ISI, Fano, corr and peak Hz, one
// row per population; undefined values print as "-", and so does a
// spectral peak that does not stand out of noise ([PeakAboveNoise]).
func Summary(stats []PopStats) string {
	header := []string{"population", "neurons", "spikes", "rate Hz", "CV ISI", "Fano", "corr", "peak Hz"}
	rows := [][]string{header}
	for i, s := range stats {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("pop %d", i)
		}
		peak := s.Spectrum.PeakHz
		if !PeakAboveNoise(s.Spectrum, s.Spectrum.peakFloor()) {
			peak = math.NaN()
		}
		rows = append(rows, []string{
			name, fmt.Sprint(s.Size), fmt.Sprint(s.Spikes),
			num(s.RateHz, "%.2f"), num(s.CV, "%.3f"), num(s.Fano, "%.3f"),
			num(s.Corr, "%.4f"), num(peak, "%.1f"),
		})
	}
	width := make([]int, len(header))
	for _, r := range rows {
		for j, c := range r {
			width[j] = max(width[j], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for j, c := range r {
			pad := strings.Repeat(" ", width[j]-len([]rune(c)))
			if j == 0 { // names align left, numbers right
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteSummary writes the table of [Summary] to w.
func WriteSummary(w io.Writer, stats []PopStats) error {
	if _, err := io.WriteString(w, Summary(stats)); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// num formats v, or "-" when it is NaN or infinite.
func num(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
