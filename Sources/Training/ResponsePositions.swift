// From a target item to the positions a loss scores: for each token of the item's response
// ("Title" then EOS), the target token, the valid next tokens of its prefix in the full-catalog
// trie (MSL's V_t) and the token's information gain (IGD's weight).
import ItemIndex

public extension InformationGain {
    func scoredPositions(ofItem i: Int) -> [ScoredPosition] {
        let seq = trie.sequences[i]
        let gains = gains(ofItem: i)
        let path = trie.path(ofItem: i)
        return seq.indices.map { k in
            ScoredPosition(target: seq[k], valid: Array(trie.validTokens(path[k])), informationGain: gains[k],
                           isEOS: seq[k] == eosTokenID)
        }
    }
}
