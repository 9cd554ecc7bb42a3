import CStrataSIMD
import StrataCore

extension HNSWGraph {
    /// Removes node n: marks it dead (walkable, never returned), repairs every live neighbour
    /// that linked to it, and moves the entry when n was the entry. Caller holds the write lock.
    ///
    /// Repair: a neighbour y that linked to n chooses its links again from its other links and
    /// n's links, by the insert's selection rule, so the region n joined stays connected instead
    /// of keeping a link into a hole. Cost: a few thousand distances per removal.
    func remove(_ n: Int, rows: GraphRows) {
        guard isLive(n) else { return }
        markDead(n)
        let node = UInt32(n)
        for layer in 0...level(n) {
            let links = links(node, layer)
            for y in links where isLive(Int(y)) && level(Int(y)) >= layer {
                repair(y, droppingLinkTo: node, with: links, layer: layer, rows: rows)
            }
        }
        if Int(entry) == n { chooseEntry() }
        layer0.packIfWorthIt()
    }

    /// Replaces y's link to `gone` on `layer` by the best of y's other links and `offered`.
    private func repair(_ y: UInt32, droppingLinkTo gone: UInt32, with offered: [UInt32], layer: Int, rows: GraphRows) {
        let current = links(y, layer)
        guard current.contains(gone) else { return }
        var seen = Set<UInt32>([y, gone])
        var candidates = [UInt64]()
        candidates.reserveCapacity(current.count + offered.count)
        let base = rows.row(y)
        for c in current + offered where seen.insert(c).inserted && isLive(Int(c)) && level(Int(c)) >= layer {
            candidates.append(NodeKey.make(distance(base, rows.row(c)), c))
        }
        candidates.sort()
        let kept = selectNeighbours(of: base, from: candidates, max: maxDegree(layer), rows: rows)
        rewriteList(y, layer, locked: false) { l, count in
            count = kept.count
            for (i, k) in kept.enumerated() { l[i] = NodeKey.node(k) }
        }
    }
}
