package model

// FullRecycled is 100% post-consumer content, in basis points.
const FullRecycled int64 = 10000

// Share is one input of a blend: the mass taken and its recycled content.
type Share struct {
	Mass            Grams
	RecycledContent int64 // basis points
}

// RecycledContent is the post-consumer share of a blend, in basis points:
// the mass-weighted share of the inputs, diluted by virgin mass, rounded
// down so that a claim is never overstated. Process loss does not change
// the share, because it is taken from the blend as a whole.
func RecycledContent(inputs []Share, virgin Grams) int64 {
	var weighted, total int64
	for _, in := range inputs {
		weighted += int64(in.Mass) * in.RecycledContent
		total += int64(in.Mass)
	}
	total += int64(virgin)
	if total <= 0 {
		return 0
	}
	return weighted / total
}

// Percent prints basis points as a percentage: 10000 is "100%", 9950 is
// "99.5%".
func Percent(bp int64) string {
	return decimal(bp, 2) + "%"
}
