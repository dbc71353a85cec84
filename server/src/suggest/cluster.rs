//! Average-linkage agglomerative clustering with a similarity threshold.
//!
//! Start with every note alone; repeatedly join the two groups whose notes are, on average,
//! the most similar, while that average similarity is at least the threshold. The number of
//! groups is not given in advance: it is where the threshold stops the joining.
//!
//! Joining "the most similar pair" naively costs O(n³). The nearest-neighbour chain algorithm
//! (Murtagh, 1983) finds the same groups in O(n²) time: follow a chain of nearest neighbours
//! (A's nearest is B, B's nearest is C, ...) until two groups are each other's nearest, join
//! them, and carry on from the rest of the chain. It is exact for average linkage because a
//! join never brings a group closer to a third one than the nearer of its two parts was
//! (the average of two numbers is at most their maximum). The same property lets a group
//! whose nearest neighbour is below the threshold retire at once: nothing can come closer to
//! it later. Memory is one similarity per pair, n(n − 1)/2 `f32` (8 MB for 2,000 notes).
//!
//! Deterministic: every scan is in index order, ties go to the chain's previous element (which
//! the algorithm needs to terminate), then to the smallest index.

/// A symmetric matrix without its diagonal, stored as its upper triangle, row by row.
#[derive(Clone)]
pub(crate) struct Condensed {
    n: usize,
    data: Vec<f32>,
}

impl Condensed {
    pub(crate) fn new(n: usize) -> Self {
        Self { n, data: vec![0.0; n * n.saturating_sub(1) / 2] }
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    fn index(&self, i: usize, j: usize) -> usize {
        let (i, j) = if i < j { (i, j) } else { (j, i) };
        // Rows 0..i hold (n-1) + (n-2) + ... + (n-i) entries.
        i * (2 * self.n - i - 1) / 2 + (j - i - 1)
    }

    /// The value for `i != j`.
    pub(crate) fn get(&self, i: usize, j: usize) -> f32 {
        self.data[self.index(i, j)]
    }

    pub(crate) fn set(&mut self, i: usize, j: usize, value: f32) {
        let k = self.index(i, j);
        self.data[k] = value;
    }

    pub(crate) fn add(&mut self, i: usize, j: usize, value: f32) {
        let k = self.index(i, j);
        self.data[k] += value;
    }
}

/// Groups the items of `sim` (consumed: it holds the group similarities as it goes). Returns
/// for each item the smallest index of its group; items alone keep their own index.
pub(crate) fn average_linkage(mut sim: Condensed, threshold: f32) -> Vec<usize> {
    let n = sim.len();
    let mut size = vec![1.0_f32; n];
    // Active: may still join. Groups are stored at the smallest index of their members.
    let mut active = vec![true; n];
    let mut joined_into: Vec<usize> = (0..n).collect();
    let mut chain: Vec<usize> = Vec::new();
    let mut next_start = 0;
    loop {
        let Some(&top) = chain.last() else {
            while next_start < n && !active[next_start] {
                next_start += 1;
            }
            if next_start == n {
                break;
            }
            chain.push(next_start);
            continue;
        };
        let previous = chain.len().checked_sub(2).map(|k| chain[k]);
        let mut best: Option<(usize, f32)> = None;
        for (j, &is_active) in active.iter().enumerate() {
            if j == top || !is_active {
                continue;
            }
            let s = sim.get(top, j);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((j, s));
            }
        }
        if let (Some(p), Some((_, b))) = (previous, best) {
            if sim.get(top, p) >= b {
                best = Some((p, sim.get(top, p)));
            }
        }
        match best {
            Some((other, s)) if s >= threshold => {
                if Some(other) == previous {
                    chain.truncate(chain.len() - 2);
                    let (keep, gone) = if top < other { (top, other) } else { (other, top) };
                    join(&mut sim, &mut size, &active, keep, gone);
                    active[gone] = false;
                    joined_into[gone] = keep;
                } else {
                    chain.push(other);
                }
            }
            // Nothing is, or will ever be, close enough: this group is final.
            _ => {
                active[top] = false;
                chain.pop();
            }
        }
    }
    // Groups were joined into smaller indices only, so one pass in index order resolves them.
    for i in 0..n {
        joined_into[i] = joined_into[joined_into[i]];
    }
    joined_into
}

/// Lance–Williams update for average linkage: the similarity of the joined group to any other
/// is the size-weighted mean of its parts' similarities.
fn join(sim: &mut Condensed, size: &mut [f32], active: &[bool], keep: usize, gone: usize) {
    let (a, b) = (size[keep], size[gone]);
    for (j, &is_active) in active.iter().enumerate() {
        if j == keep || j == gone || !is_active {
            continue;
        }
        let s = (a * sim.get(keep, j) + b * sim.get(gone, j)) / (a + b);
        sim.set(keep, j, s);
    }
    size[keep] = a + b;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(n: usize, pairs: &[(usize, usize, f32)]) -> Condensed {
        let mut m = Condensed::new(n);
        for &(i, j, s) in pairs {
            m.set(i, j, s);
        }
        m
    }

    #[test]
    fn condensed_indexing_covers_every_pair_once() {
        let n = 7;
        let m = Condensed::new(n);
        let mut seen = vec![false; n * (n - 1) / 2];
        for i in 0..n {
            for j in i + 1..n {
                let k = m.index(i, j);
                assert!(!seen[k]);
                seen[k] = true;
                assert_eq!(k, m.index(j, i));
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn two_obvious_groups_and_a_loner() {
        // {0, 2, 4} and {1, 3} are tight; 5 is like nothing.
        let sim =
            matrix(6, &[(0, 2, 0.9), (0, 4, 0.8), (2, 4, 0.7), (1, 3, 0.6), (0, 1, 0.05), (4, 5, 0.01)]);
        assert_eq!(average_linkage(sim, 0.2), vec![0, 1, 0, 1, 0, 5]);
    }

    #[test]
    fn average_not_single_linkage() {
        // 2 is very close to 1 only; joined with {0, 1} the average is (0.9 + 0) / 2 = 0.45.
        let sim = matrix(3, &[(0, 1, 0.9), (1, 2, 0.9)]);
        assert_eq!(average_linkage(matrix(3, &[(0, 1, 0.9), (1, 2, 0.9)]), 0.5), vec![0, 0, 2]);
        assert_eq!(average_linkage(sim, 0.4), vec![0, 0, 0]);
    }

    /// The naive algorithm (join the most similar pair of groups, recompute averages from
    /// scratch) on small random matrices gives the same groups.
    #[test]
    fn matches_the_naive_algorithm() {
        let mut seed = 0x9e37_79b9_u32;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 1_000_000) as f32 / 1_000_000.0
        };
        for round in 0..200 {
            let n = 2 + round % 15;
            let mut pairs = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    // Sparse, like text: most pairs share nothing.
                    let s = random();
                    pairs.push((i, j, if s < 0.6 { 0.0 } else { s }));
                }
            }
            let threshold = 0.1 + random() * 0.4;
            let fast = average_linkage(matrix(n, &pairs), threshold);
            assert_eq!(fast, naive(n, &pairs, threshold), "round {round}");
        }
    }

    fn naive(n: usize, pairs: &[(usize, usize, f32)], threshold: f32) -> Vec<usize> {
        let full = |i: usize, j: usize| {
            pairs.iter().find(|p| (p.0, p.1) == (i.min(j), i.max(j))).map_or(0.0, |p| p.2)
        };
        let mut groups: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        loop {
            let mut best: Option<(usize, usize, f32)> = None;
            for a in 0..groups.len() {
                for b in a + 1..groups.len() {
                    let mut total = 0.0_f64;
                    for &i in &groups[a] {
                        for &j in &groups[b] {
                            total += f64::from(full(i, j));
                        }
                    }
                    let avg = (total / (groups[a].len() * groups[b].len()) as f64) as f32;
                    if best.is_none_or(|(_, _, s)| avg > s) {
                        best = Some((a, b, avg));
                    }
                }
            }
            match best {
                Some((a, b, s)) if s >= threshold => {
                    let moved = groups.remove(b);
                    groups[a].extend(moved);
                }
                _ => break,
            }
        }
        let mut out = vec![0; n];
        for g in groups {
            let root = *g.iter().min().unwrap_or(&0);
            for i in g {
                out[i] = root;
            }
        }
        out
    }
}
