// The trie and IG on a hand-made catalog, with every value worked out below.
//   EOS = 9.  A = [5, 1, 9], B = [5, 2, 9], C = [6, 9], D = [7, 8, 9].
//   Training targets A, A, B, C  →  p = (1/2, 1/4, 1/4, 0).
//   −p ln p: A = ½ ln 2 = 0.346574, B = C = ¼ ln 4 = 0.346574, D = 0.
//   H(root) = 1.039721, H(5) = 0.693147, H(5·1) = H(5·2) = H(6) = 0.346574, H(7) = H(7·8) = 0.
//   IG(5) = 0.346574, IG(6) = 0.693147, IG(7) = 1.039721, IG(5→1) = IG(5→2) = 0.346574,
//   IG(7→8) = 0 (only child, and D is never a target), IG(EOS) = 0.
import Foundation
import Testing
@testable import ItemIndex

let catalog: [[Int32]] = [[5, 1, 9], [5, 2, 9], [6, 9], [7, 8, 9]]
let half = log(2.0) / 2  // 0.346574

@Suite("Item trie and information gain")
struct InformationGainTests {
    @Test func trieStructure() throws {
        let trie = try TokenTrie(sequences: catalog)
        #expect(Array(trie.validTokens(TokenTrie.root)) == [5, 6, 7])
        let n5 = try #require(trie.child(TokenTrie.root, 5))
        #expect(Array(trie.validTokens(n5)) == [1, 2])
        #expect(trie.itemsBelow[Int(n5)] == 2 && trie.itemsBelow[0] == 4)
        #expect(trie.child(TokenTrie.root, 4) == nil)
        #expect(trie.path(ofItem: 1).count == 3)
        let leaf = trie.child(trie.child(n5, 2)!, 9)!
        #expect(trie.itemAt[Int(leaf)] == 1)
        #expect(trie.nodeCount == 1 + 5 + 2 + 3, "root, 5, 5·1, 5·1·9, 5·2, 5·2·9, 6, 6·9, 7, 7·8, 7·8·9")
    }

    @Test func gainsWorkedOutByHand() throws {
        let ig = InformationGain(trie: try TokenTrie(sequences: catalog), targetCounts: [2, 1, 1, 0], eosTokenID: 9)
        #expect(ig.probabilities == [0.5, 0.25, 0.25, 0])
        #expect(abs(ig.nodeEntropy[0] - 3 * half) < 1e-12)
        func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 } }
        #expect(close(ig.gains(ofItem: 0), [half, half, 0]))
        #expect(close(ig.gains(ofItem: 1), [half, half, 0]))
        #expect(close(ig.gains(ofItem: 2), [2 * half, 0]))
        #expect(close(ig.gains(ofItem: 3), [3 * half, 0, 0]))
        #expect(InformationGain.isZero(ig.gains(ofItem: 3)[1]), "the only child of its parent is non-decisive")
    }

    @Test func statistics() throws {
        let ig = InformationGain(trie: try TokenTrie(sequences: catalog), targetCounts: [2, 1, 1, 0], eosTokenID: 9)
        let stats = IGStatistics(ig, targets: [0, 0, 1, 2], top: 2)
        // Target tokens: A, A, B (3 each) and C (2) = 11; zero-IG: the four EOS tokens.
        #expect(stats.targetTokens == 11)
        #expect(abs(stats.zeroShare - 4.0 / 11) < 1e-12)
        #expect(stats.byPosition.map(\.tokens) == [4, 4, 3])
        #expect(abs(stats.byPosition[0].meanIG - (3 * half + 2 * half) / 4) < 1e-12)
        #expect(stats.byPosition[1].zeroShare == 0.25, "C's EOS is its second token")
        // Node 5 holds the most items (2 of 4), so it plays the opening quote: its children 1 and 2
        // (IG ½ ln 2 each) stand beside the root's other children 6 (ln 2) and 7 (3/2 ln 2).
        #expect(stats.mostDecisiveFirst.map(\.token) == [7, 6])
        #expect(stats.leastDecisiveFirst.map(\.token) == [1, 2])
        #expect(stats.mostDecisiveFirst.first?.items == 1)
        #expect(abs(stats.leastDecisiveFirst[0].ig - half) < 1e-12)
    }

    @Test func noTrainingTargetsMeansNoGain() throws {
        let ig = InformationGain(trie: try TokenTrie(sequences: catalog), targetCounts: [0, 0, 0, 0], eosTokenID: 9)
        #expect(ig.gains(ofItem: 0) == [0, 0, 0])
    }

    @Test func badCatalogsAreRefused() {
        #expect(throws: TokenTrie.BuildError.duplicateSequence(item: 1, sameAs: 0)) { try TokenTrie(sequences: [[1, 9], [1, 9]]) }
        #expect(throws: TokenTrie.BuildError.prefixOfAnother(item: 0, other: 1)) { try TokenTrie(sequences: [[1], [1, 2]]) }
        #expect(throws: TokenTrie.BuildError.prefixOfAnother(item: 1, other: 0)) { try TokenTrie(sequences: [[1, 2], [1]]) }
        #expect(throws: TokenTrie.BuildError.emptySequence(item: 0)) { try TokenTrie(sequences: [[]]) }
    }
}
