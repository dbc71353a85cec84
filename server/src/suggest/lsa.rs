//! Second-order similarities, measured against the shared-word one (tests only).
//!
//! Two notes of one theme often share no word (« Plus de bus ! », « Aires de covoiturage près
//! des échangeurs »), but their words may co-occur with the same other words across the board.
//! The methods here compare notes through the words their words go with, from the board alone:
//!
//! - [`Method::Lsa`]: latent semantic analysis. The note × term TF-IDF matrix X is replaced by
//!   its best rank-k approximation (truncated SVD, X ≈ U Σ Vᵀ); notes are compared by the
//!   cosine of their rows of U Σ^p.
//! - [`Method::Spectral`]: Dhillon's bipartite spectral co-clustering (2001): the same on
//!   D₁^-½ X D₂^-½ (D₁, D₂ the row and column sums), the first, trivial, direction dropped and
//!   rows scaled by D₁^-½. Frequent words and long notes weigh less than in LSA.
//! - [`Method::SecondOrder`]: the cosine of the notes' similarity profiles (rows of S + I).
//! - [`Method::KnnSpectral`]: spectral embedding of the note graph kept to each note's k most
//!   similar notes (a usual remedy for hub words).
//!
//! The truncated SVD is computed by randomized subspace iteration (Halko, Martinsson and
//! Tropp, 2011): k + p random combinations of the notes, multiplied by X Xᵀ a few times and
//! re-orthonormalised, then the small problem solved exactly (Jacobi). Fixed seed:
//! deterministic.
//!
//! None of them recovers the themes better on both French test boards (docs/clustering.md,
//! `sweep_second_order` in the tests), so `suggest` does not use them: this module is compiled
//! for the tests only, to keep the measurement reproducible.

use super::cluster::Condensed;
use super::corpus::Vector;
use super::{analyse, group_and_name, Embedding, Note, Options, Suggestions, Tuning};

/// Extra directions computed beyond `dims` so that the kept ones are accurate (Halko et al.).
const OVERSAMPLING: usize = 8;

/// Power iterations of the randomized SVD: enough for the figures to stop changing on the test
/// boards, whose leading singular values are close (6 were not).
const ITERATIONS: usize = 30;

/// How notes are compared.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    /// LSA with `dims` directions, rows of U Σ^`power`.
    Lsa { dims: usize, power: f64 },
    /// Bipartite spectral co-clustering with `dims` directions.
    Spectral { dims: usize },
    /// Cosine of the similarity profiles.
    SecondOrder,
    /// Spectral embedding (`dims` directions) of the `k`-nearest-neighbour note graph.
    KnnSpectral { k: usize, dims: usize },
}

/// [`super::suggest_with`] with the similarity of `method`; the small-group step compares
/// embeddings when the method has them.
pub(crate) fn suggest_by(notes: &[Note], options: &Options, method: Method, tuning: Tuning) -> Suggestions {
    let corpus = analyse(notes, options);
    let terms = corpus.terms.len();
    let embeddings = match method {
        Method::Lsa { dims, power } => {
            embed(&corpus.vectors, terms, dims, ITERATIONS, 0, power, &vec![1.0; notes.len()])
        }
        Method::Spectral { dims } => {
            let (rows, scale) = bipartite(&corpus.vectors, terms);
            embed(&rows, terms, dims, ITERATIONS, 1, 0.0, &scale)
        }
        Method::KnnSpectral { k, dims } => {
            let (rows, scale) = bipartite(&knn_rows(&corpus.similarities(), k), notes.len());
            embed(&rows, notes.len(), dims, ITERATIONS, 1, 0.0, &scale)
        }
        Method::SecondOrder => {
            let empty: Vec<bool> = corpus.vectors.iter().map(Vec::is_empty).collect();
            let sim = second_order(&corpus.similarities(), &empty);
            return group_and_name(notes, options, &corpus, sim, &corpus.vectors, tuning);
        }
    };
    let sim = similarities(&embeddings);
    group_and_name(notes, options, &corpus, sim, &embeddings, tuning)
}

impl Embedding for Vec<Vec<f32>> {
    fn centre(&self, members: &[usize]) -> Vector {
        let dims = members.iter().map(|&i| self[i].len()).max().unwrap_or(0);
        let mut total = vec![0.0; dims];
        for &i in members {
            total.iter_mut().zip(&self[i]).for_each(|(t, x)| *t += x);
        }
        total.into_iter().enumerate().map(|(d, x)| (d as u32, x)).collect()
    }
    fn dot(&self, note: usize, centre: &[(u32, f32)]) -> f32 {
        self[note].iter().zip(centre).map(|(a, (_, b))| a * b).sum()
    }
    fn is_empty(&self, note: usize) -> bool {
        self[note].is_empty()
    }
}

/// Unit-length embeddings of `vectors` (sparse rows of X over `terms` columns): the `dims`
/// strongest directions after the `skip` first, coordinates scaled by σ^`power` and by
/// `row_scale`. Notes with an empty vector get an empty embedding.
fn embed(
    vectors: &[Vector],
    terms: usize,
    dims: usize,
    iterations: usize,
    skip: usize,
    power: f64,
    row_scale: &[f64],
) -> Vec<Vec<f32>> {
    let n = vectors.len();
    let dims = dims + skip;
    let width = (dims + OVERSAMPLING).min(n).min(terms);
    if width == 0 {
        return vec![Vec::new(); n];
    }
    // Y = X Ω, Ω a fixed pseudo-random terms × width matrix, built term by term as needed.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let omega: Vec<f64> = (0..terms * width)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let mut y = times(vectors, &omega, width);
    orthonormalize(&mut y, n, width);
    for _ in 0..iterations {
        let z = transpose_times(vectors, &y, terms, width);
        y = times(vectors, &z, width);
        orthonormalize(&mut y, n, width);
    }
    // B = Qᵀ X; G = B Bᵀ = W Λ Wᵀ; then U Σ = Q W Λ^½.
    let z = transpose_times(vectors, &y, terms, width);
    let mut g = vec![0.0_f64; width * width];
    for row in z.chunks_exact(width) {
        for a in 0..width {
            for b in 0..width {
                g[a * width + b] += row[a] * row[b];
            }
        }
    }
    let (values, w) = symmetric_eigen(g, width);
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(dims.min(width));
    order.drain(..skip.min(order.len()));
    let scale: Vec<f64> = order.iter().map(|&c| values[c].max(0.0).sqrt().powf(power)).collect();
    (0..n)
        .map(|i| {
            if vectors[i].is_empty() {
                return Vec::new();
            }
            let q = &y[i * width..(i + 1) * width];
            let mut e: Vec<f64> = order
                .iter()
                .zip(&scale)
                .map(|(&c, s)| (0..width).map(|a| q[a] * w[a * width + c]).sum::<f64>() * s * row_scale[i])
                .collect();
            let norm = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-12 {
                e.iter_mut().for_each(|x| *x /= norm);
                e.into_iter().map(|x| x as f32).collect()
            } else {
                Vec::new()
            }
        })
        .collect()
}

/// Cosine similarity of every pair of embeddings (0 with an empty one).
fn similarities(embeddings: &[Vec<f32>]) -> Condensed {
    let n = embeddings.len();
    let mut sim = Condensed::new(n);
    for i in 0..n {
        if embeddings[i].is_empty() {
            continue;
        }
        for j in i + 1..n {
            if !embeddings[j].is_empty() {
                sim.set(i, j, embeddings[i].iter().zip(&embeddings[j]).map(|(a, b)| a * b).sum());
            }
        }
    }
    sim
}

/// X M for sparse X (n rows) and dense M (terms × width, row-major): n × width.
fn times(rows: &[Vector], m: &[f64], width: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows.len() * width];
    for (i, row) in rows.iter().enumerate() {
        let target = &mut out[i * width..(i + 1) * width];
        for &(t, x) in row {
            let source = &m[t as usize * width..(t as usize + 1) * width];
            target.iter_mut().zip(source).for_each(|(o, s)| *o += f64::from(x) * s);
        }
    }
    out
}

/// Xᵀ Y for sparse X (n rows over `terms` terms) and dense Y (n × width): terms × width.
fn transpose_times(rows: &[Vector], y: &[f64], terms: usize, width: usize) -> Vec<f64> {
    let mut out = vec![0.0; terms * width];
    for (i, row) in rows.iter().enumerate() {
        let source = &y[i * width..(i + 1) * width];
        for &(t, x) in row {
            let target = &mut out[t as usize * width..(t as usize + 1) * width];
            target.iter_mut().zip(source).for_each(|(o, s)| *o += f64::from(x) * s);
        }
    }
    out
}

/// Modified Gram–Schmidt on the columns of `y` (n × width, row-major). A column that depends on
/// the previous ones (the board has fewer independent directions) becomes zero.
fn orthonormalize(y: &mut [f64], n: usize, width: usize) {
    for c in 0..width {
        for p in 0..c {
            let d: f64 = (0..n).map(|i| y[i * width + c] * y[i * width + p]).sum();
            (0..n).for_each(|i| y[i * width + c] -= d * y[i * width + p]);
        }
        let norm = (0..n).map(|i| y[i * width + c].powi(2)).sum::<f64>().sqrt();
        let factor = if norm > 1e-9 { 1.0 / norm } else { 0.0 };
        (0..n).for_each(|i| y[i * width + c] *= factor);
    }
}

/// Eigenvalues and eigenvectors (columns of the returned k × k row-major matrix) of a symmetric
/// matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<f64>, k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; k * k];
    (0..k).for_each(|i| v[i * k + i] = 1.0);
    for _sweep in 0..100 {
        let off: f64 = (0..k)
            .flat_map(|p| (0..k).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p * k + q].powi(2))
            .sum();
        let total: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-24 * total.max(1e-300) {
            break;
        }
        for p in 0..k {
            for q in p + 1..k {
                let apq = a[p * k + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * k + q] - a[p * k + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..k {
                    let (arp, arq) = (a[r * k + p], a[r * k + q]);
                    a[r * k + p] = c * arp - s * arq;
                    a[r * k + q] = s * arp + c * arq;
                }
                for r in 0..k {
                    let (apr, aqr) = (a[p * k + r], a[q * k + r]);
                    a[p * k + r] = c * apr - s * aqr;
                    a[q * k + r] = s * apr + c * aqr;
                }
                for r in 0..k {
                    let (vrp, vrq) = (v[r * k + p], v[r * k + q]);
                    v[r * k + p] = c * vrp - s * vrq;
                    v[r * k + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    ((0..k).map(|i| a[i * k + i]).collect(), v)
}

/// Dhillon's bipartite normalisation: x_it / sqrt(d_i d_t), with d_i and d_t the row and column
/// sums. Returns the scaled rows and 1 / sqrt(d_i) per row.
fn bipartite(vectors: &[Vector], terms: usize) -> (Vec<Vector>, Vec<f64>) {
    let mut col = vec![0.0_f64; terms];
    for row in vectors {
        for &(t, x) in row {
            col[t as usize] += f64::from(x);
        }
    }
    let mut scale = Vec::new();
    let rows = vectors
        .iter()
        .map(|row| {
            let d: f64 = row.iter().map(|&(_, x)| f64::from(x)).sum();
            scale.push(if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 });
            row.iter().map(|&(t, x)| (t, (f64::from(x) / (d * col[t as usize]).sqrt()) as f32)).collect()
        })
        .collect();
    (rows, scale)
}

/// Second-order similarity: the cosine of the notes' rows of S + I (their similarity profiles,
/// each note counted as its own neighbour).
fn second_order(sim: &Condensed, empty: &[bool]) -> Condensed {
    let n = sim.len();
    let row = |i: usize| -> Vec<f32> {
        (0..n)
            .map(|j| {
                if i == j {
                    if empty[i] {
                        0.0
                    } else {
                        1.0
                    }
                } else {
                    sim.get(i, j)
                }
            })
            .collect()
    };
    let rows: Vec<Vec<f32>> = (0..n).map(row).collect();
    let norms: Vec<f32> = rows.iter().map(|r| r.iter().map(|x| x * x).sum::<f32>().sqrt()).collect();
    let mut out = Condensed::new(n);
    for i in 0..n {
        for j in i + 1..n {
            if norms[i] > 0.0 && norms[j] > 0.0 {
                let d: f32 = rows[i].iter().zip(&rows[j]).map(|(a, b)| a * b).sum();
                out.set(i, j, d / (norms[i] * norms[j]));
            }
        }
    }
    out
}

/// The note graph kept to each note's `k` most similar notes (union, symmetric), as sparse rows.
fn knn_rows(sim: &Condensed, k: usize) -> Vec<Vector> {
    let n = sim.len();
    let mut keep = vec![std::collections::BTreeMap::<u32, f32>::new(); n];
    for i in 0..n {
        let mut row: Vec<(usize, f32)> =
            (0..n).filter(|&j| j != i).map(|j| (j, sim.get(i, j))).filter(|x| x.1 > 0.0).collect();
        row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        row.truncate(k);
        for (j, s) in row {
            keep[i].insert(j as u32, s);
            keep[j].insert(i as u32, s);
        }
    }
    keep.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let mut v: Vector = m.into_iter().collect();
            if !v.is_empty() {
                v.push((i as u32, 1.0));
                v.sort_by_key(|x| x.0);
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises() {
        let a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 1.0];
        let (values, v) = symmetric_eigen(a.clone(), 3);
        for c in 0..3 {
            for r in 0..3 {
                let av: f64 = (0..3).map(|j| a[r * 3 + j] * v[j * 3 + c]).sum();
                assert!((av - values[c] * v[r * 3 + c]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn words_that_go_together_make_notes_alike() {
        // Terms: 0 bus, 1 gare, 2 car, 3 cantine, 4 bio. Notes 0 and 2 share no term, but « bus »
        // and « car » both go with « gare ».
        let unit = |v: Vec<(u32, f32)>| {
            let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
            v.into_iter().map(|(t, w)| (t, w / norm)).collect::<Vector>()
        };
        let rows = vec![
            unit(vec![(0, 1.0)]),
            unit(vec![(0, 1.0), (1, 1.0)]),
            unit(vec![(2, 1.0)]),
            unit(vec![(1, 1.0), (2, 1.0)]),
            unit(vec![(3, 1.0), (4, 1.0)]),
            unit(vec![(3, 1.0)]),
            Vec::new(),
        ];
        let sim = similarities(&embed(&rows, 5, 2, 4, 0, 1.0, &[1.0; 7]));
        assert!(sim.get(0, 2) > 0.8, "{}", sim.get(0, 2));
        assert!(sim.get(0, 4).abs() < 0.1);
        assert_eq!(sim.get(0, 6), 0.0);
    }
}
