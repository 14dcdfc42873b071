// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ArenaToken} from "./ArenaToken.sol";

/// @title ArenaSettlement
/// @notice Receives reward batches sealed by Arena's bridge on the Cosmos chain and lets their
/// recipients claim them as ArenaToken.
///
/// A batch is posted once, with signatures of at least `threshold` distinct attesters over the
/// EIP-712 digest of Batch(sourceChain, sourceBridge, batchId, root, total, count) under the domain
/// ("ArenaSettlement", "1", chainId, this contract). The source (keccak256 of the Cosmos chain id and
/// of the bridge's address) is fixed at deployment: batch ids restart at 1 in every bridge, and a
/// batch of any other bridge is refused. Each leaf of its Merkle tree (OpenZeppelin's
/// StandardMerkleTree over (uint64 batchId, uint32 index, address recipient, uint256 amount)) can
/// be claimed once, and the claims of a batch never add up to more than its signed total. The token
/// is deployed by this contract and mints only for it.
///
/// The owner cannot act at once: a change of the attester set or threshold is proposed, announced by
/// event, and executable only `timelockDelay` seconds later, so relayers and users see a takeover
/// coming. And the totals of the batches posted in each `mintPeriod` add up to at most
/// `mintCapPerPeriod`, so even a threshold of colluding (or stolen) attester keys can make only that
/// much claimable per period.
contract ArenaSettlement is EIP712, Ownable2Step {
    /// @notice EIP-712 type hash of the struct attesters sign.
    bytes32 public constant BATCH_TYPEHASH = keccak256(
        "Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64 batchId,bytes32 root,uint256 total,uint32 count)"
    );

    /// @notice Everything fixed at deployment besides the attesters (a struct, so the constructor
    /// stays within the stack).
    struct Params {
        /// keccak256 of the Cosmos chain id the bridge runs on.
        bytes32 sourceChain;
        /// keccak256 of the bridge contract's bech32 address.
        bytes32 sourceBridge;
        /// Seconds between proposing and executing an attester-set change.
        uint64 timelockDelay;
        /// Most that the batches posted in one period may total, in token base units.
        uint192 mintCapPerPeriod;
        /// Length of a rate-limit period, in seconds.
        uint64 mintPeriod;
    }

    /// @notice Posted totals of the current rate-limit period: one slot.
    struct MintWindow {
        /// `block.timestamp / mintPeriod` of the period these totals belong to.
        uint64 period;
        /// Sum of the totals of the batches posted in it.
        uint192 posted;
    }

    /// @notice A posted batch. Two storage slots: the root, then total, claimed and count packed.
    /// @dev uint112 holds 5.19e33 base units (5.19e27 tokens at 6 decimals), far above any supply;
    /// packing it keeps a post at two fresh slots and a claim at one warm update.
    struct Batch {
        /// Merkle root of the batch's leaves; zero while the batch is not posted.
        bytes32 root;
        /// Sum of the leaf amounts, as signed by the attesters.
        uint112 total;
        /// Sum of the amounts claimed so far; never above `total`.
        uint112 claimed;
        /// Number of leaves, as signed by the attesters.
        uint32 count;
    }

    /// @notice The reward token; this contract is its only minter.
    ArenaToken public immutable token;
    /// @notice keccak256 of the Cosmos chain id whose bridge this contract settles.
    bytes32 public immutable sourceChain;
    /// @notice keccak256 of the address of the bridge this contract settles.
    bytes32 public immutable sourceBridge;
    /// @notice Seconds an attester-set change waits between proposal and execution.
    uint64 public immutable timelockDelay;
    /// @notice Most that the batches posted in one period may total.
    uint192 public immutable mintCapPerPeriod;
    /// @notice Length of a rate-limit period, in seconds.
    uint64 public immutable mintPeriod;

    /// @notice Signatures a batch needs, from distinct attesters.
    uint32 public threshold;
    /// @notice Number of registered attesters.
    uint32 public attesterCount;
    /// @notice Whether an address is a registered attester.
    mapping(address => bool) public isAttester;
    /// @notice Posted batches by batch id.
    mapping(uint64 => Batch) public batches;
    /// @dev One bit per leaf index, 256 leaves per word.
    mapping(uint64 => mapping(uint256 => uint256)) private _claimedBits;
    /// @notice When each pending attester-set change may be executed (0: no such proposal), by
    /// `attesterUpdateId(add, remove, newThreshold)`.
    mapping(bytes32 => uint256) public proposalReadyAt;
    /// @dev What the batches posted in the current period total.
    MintWindow private _window;

    /// @notice A batch with this id is already posted.
    error BatchAlreadyPosted(uint64 batchId);
    /// @notice No batch with this id is posted.
    error BatchNotPosted(uint64 batchId);
    /// @notice A zero root cannot be posted: it marks an unposted batch.
    error EmptyRoot(uint64 batchId);
    /// @notice The total does not fit the packed uint112 field.
    error TotalTooLarge(uint256 total);
    /// @notice Fewer signatures than the threshold.
    error InsufficientSignatures(uint256 provided, uint256 required);
    /// @notice The signature at `index` does not parse or recover (bad length, high s, bad v).
    error InvalidSignature(uint256 index);
    /// @notice A recovered signer (or an address to remove) is not a registered attester.
    error UnknownAttester(address account);
    /// @notice The same signer signed twice.
    error DuplicateSigner(address signer);
    /// @notice Signatures must be ordered by signer address, strictly ascending.
    error SignersNotAscending(address signer, address previous);
    /// @notice The leaf is already claimed.
    error AlreadyClaimed(uint64 batchId, uint32 index);
    /// @notice The proof does not lead from this leaf to the batch's root.
    error InvalidProof(uint64 batchId, uint32 index);
    /// @notice Paying this leaf would take the batch's claims above its signed total.
    error ClaimExceedsTotal(uint64 batchId, uint256 amount, uint256 remaining);
    /// @notice The threshold must be at least 1 and at most the number of attesters.
    error InvalidThreshold(uint256 threshold, uint256 attesterCount);
    /// @notice The address is already an attester.
    error AttesterAlreadyRegistered(address account);
    /// @notice The zero address cannot be an attester.
    error ZeroAttester();
    /// @notice The batch was sealed by another chain or bridge than the one this contract settles.
    error WrongSource(bytes32 sourceChain, bytes32 sourceBridge, bytes32 expectedChain, bytes32 expectedBridge);
    /// @notice The batch's total is more than this period may still have posted; post it again
    /// once the period ends at `periodEndsAt` (a batch above the whole cap never fits).
    error MintRateExceeded(uint64 batchId, uint256 total, uint256 remaining, uint256 periodEndsAt);
    /// @notice No pending proposal has this id.
    error UnknownProposal(bytes32 id);
    /// @notice The same change is already proposed.
    error ProposalExists(bytes32 id, uint256 readyAt);
    /// @notice The proposal's delay has not passed; execute it at `readyAt` or later.
    error ProposalNotReady(bytes32 id, uint256 readyAt);
    /// @notice A deployment parameter is unusable (a zero source, period or cap).
    error InvalidParams();

    /// @notice A batch was posted.
    event BatchPosted(uint64 indexed batchId, bytes32 root, uint256 total, uint32 count, address indexed poster);
    /// @notice A leaf was claimed and its amount minted to the recipient.
    event Claimed(uint64 indexed batchId, uint32 index, address indexed recipient, uint256 amount);
    /// @notice An attester was registered.
    event AttesterAdded(address indexed attester);
    /// @notice An attester was removed.
    event AttesterRemoved(address indexed attester);
    /// @notice The signature threshold changed.
    event ThresholdChanged(uint32 previous, uint32 current);
    /// @notice An attester-set change was proposed; it may be executed from `readyAt` on.
    event AttesterUpdateProposed(
        bytes32 indexed id, address[] add, address[] remove, uint32 newThreshold, uint256 readyAt
    );
    /// @notice A proposed attester-set change was executed.
    event AttesterUpdateExecuted(bytes32 indexed id);
    /// @notice A proposed attester-set change was withdrawn.
    event AttesterUpdateCancelled(bytes32 indexed id);

    /// @param initialOwner The account that may propose attester-set changes (two-step transfers).
    /// @param params The source, the timelock delay and the mint rate limit, fixed for good.
    /// @param attesters The initial attester set.
    /// @param threshold_ Signatures a batch needs; 1 <= threshold_ <= attesters.length.
    /// @param tokenName Name of the ERC-20 this contract deploys.
    /// @param tokenSymbol Symbol of the ERC-20 this contract deploys.
    constructor(
        address initialOwner,
        Params memory params,
        address[] memory attesters,
        uint32 threshold_,
        string memory tokenName,
        string memory tokenSymbol
    ) EIP712("ArenaSettlement", "1") Ownable(initialOwner) {
        if (
            params.sourceChain == bytes32(0) || params.sourceBridge == bytes32(0) || params.mintPeriod == 0
                || params.mintCapPerPeriod == 0
        ) revert InvalidParams();
        sourceChain = params.sourceChain;
        sourceBridge = params.sourceBridge;
        timelockDelay = params.timelockDelay;
        mintCapPerPeriod = params.mintCapPerPeriod;
        mintPeriod = params.mintPeriod;
        token = new ArenaToken(tokenName, tokenSymbol);
        for (uint256 i = 0; i < attesters.length; ++i) {
            _addAttester(attesters[i]);
        }
        _setThreshold(threshold_);
    }

    /// @notice Posts a batch signed by at least `threshold` distinct attesters.
    /// @param batchSourceChain keccak256 of the chain id the batch was sealed on; must be this
    /// contract's `sourceChain` (passed, not assumed, so a relayer pointed at the wrong bridge gets
    /// `WrongSource` instead of signatures that recover to strangers).
    /// @param batchSourceBridge keccak256 of the sealing bridge's address; must be `sourceBridge`.
    /// @param signatures 65-byte (r, s, v) signatures over `batchDigest(...)`, ordered by signer
    /// address ascending: the order proves the signers distinct without a set in storage.
    function postBatch(
        bytes32 batchSourceChain,
        bytes32 batchSourceBridge,
        uint64 batchId,
        bytes32 root,
        uint256 total,
        uint32 count,
        bytes[] calldata signatures
    ) external {
        if (batchSourceChain != sourceChain || batchSourceBridge != sourceBridge) {
            revert WrongSource(batchSourceChain, batchSourceBridge, sourceChain, sourceBridge);
        }
        Batch storage batch = batches[batchId];
        if (batch.root != bytes32(0)) revert BatchAlreadyPosted(batchId);
        if (root == bytes32(0)) revert EmptyRoot(batchId);
        if (total > type(uint112).max) revert TotalTooLarge(total);
        _spendMintAllowance(batchId, total);
        uint256 required = threshold;
        if (signatures.length < required) revert InsufficientSignatures(signatures.length, required);

        bytes32 digest = batchDigest(batchId, root, total, count);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (signer == previous) revert DuplicateSigner(signer);
            if (signer < previous) revert SignersNotAscending(signer, previous);
            if (!isAttester[signer]) revert UnknownAttester(signer);
            previous = signer;
        }

        batch.root = root;
        batch.total = uint112(total);
        batch.count = count;
        emit BatchPosted(batchId, root, total, count, msg.sender);
    }

    /// @notice Pays one leaf of a posted batch to its recipient. Anyone may submit it; the tokens go
    /// to `recipient`, the address in the leaf.
    function claim(uint64 batchId, uint32 index, address recipient, uint256 amount, bytes32[] calldata proof)
        external
    {
        Batch storage batch = batches[batchId];
        bytes32 root = batch.root;
        if (root == bytes32(0)) revert BatchNotPosted(batchId);
        // StandardMerkleTree's leaf: the abi-encoded values, hashed twice.
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(batchId, index, recipient, amount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(batchId, index);
        _markClaimed(batchId, index);

        uint256 claimed = batch.claimed;
        uint256 remaining = uint256(batch.total) - claimed;
        if (amount > remaining) revert ClaimExceedsTotal(batchId, amount, remaining);
        // claimed + amount <= total <= type(uint112).max, so the cast is exact.
        batch.claimed = uint112(claimed + amount);
        emit Claimed(batchId, index, recipient, amount);
        token.mint(recipient, amount);
    }

    /// @notice Proposes adding and removing attesters and setting the threshold; executable with
    /// `executeAttesterUpdate` once `timelockDelay` seconds have passed. Nothing is checked yet:
    /// the set is validated when the change applies.
    function proposeAttesterUpdate(address[] calldata add, address[] calldata remove, uint32 newThreshold)
        external
        onlyOwner
        returns (bytes32 id)
    {
        id = attesterUpdateId(add, remove, newThreshold);
        uint256 pending = proposalReadyAt[id];
        if (pending != 0) revert ProposalExists(id, pending);
        uint256 readyAt = block.timestamp + timelockDelay;
        proposalReadyAt[id] = readyAt;
        emit AttesterUpdateProposed(id, add, remove, newThreshold, readyAt);
    }

    /// @notice Applies a proposed change whose delay has passed: adds and removes attesters and
    /// sets the threshold, in one step so the set is never left below its threshold. Removals
    /// apply first.
    function executeAttesterUpdate(address[] calldata add, address[] calldata remove, uint32 newThreshold)
        external
        onlyOwner
    {
        bytes32 id = attesterUpdateId(add, remove, newThreshold);
        uint256 readyAt = proposalReadyAt[id];
        if (readyAt == 0) revert UnknownProposal(id);
        if (block.timestamp < readyAt) revert ProposalNotReady(id, readyAt);
        delete proposalReadyAt[id];
        _updateAttesters(add, remove, newThreshold);
        emit AttesterUpdateExecuted(id);
    }

    /// @notice Withdraws a pending proposal.
    function cancelAttesterUpdate(bytes32 id) external onlyOwner {
        if (proposalReadyAt[id] == 0) revert UnknownProposal(id);
        delete proposalReadyAt[id];
        emit AttesterUpdateCancelled(id);
    }

    /// @notice The id of the proposal of this exact change.
    function attesterUpdateId(address[] calldata add, address[] calldata remove, uint32 newThreshold)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(add, remove, newThreshold));
    }

    /// @notice What batches posted now may still total in this period, and when the period ends.
    function mintAllowance() external view returns (uint256 remaining, uint256 periodEndsAt) {
        uint64 period = uint64(block.timestamp / mintPeriod);
        MintWindow memory window = _window;
        uint256 used = window.period == period ? window.posted : 0;
        return (mintCapPerPeriod - used, (uint256(period) + 1) * mintPeriod);
    }

    function _updateAttesters(address[] calldata add, address[] calldata remove, uint32 newThreshold) private {
        for (uint256 i = 0; i < remove.length; ++i) {
            address account = remove[i];
            if (!isAttester[account]) revert UnknownAttester(account);
            isAttester[account] = false;
            --attesterCount;
            emit AttesterRemoved(account);
        }
        for (uint256 i = 0; i < add.length; ++i) {
            _addAttester(add[i]);
        }
        _setThreshold(newThreshold);
    }

    /// @notice Whether batch `batchId` is posted.
    function isPosted(uint64 batchId) external view returns (bool) {
        return batches[batchId].root != bytes32(0);
    }

    /// @notice Whether leaf `index` of batch `batchId` is claimed.
    function isClaimed(uint64 batchId, uint32 index) external view returns (bool) {
        return _claimedBits[batchId][index >> 8] & (uint256(1) << (index & 0xff)) != 0;
    }

    /// @notice The EIP-712 digest attesters sign for a batch of this contract's source; exposed so
    /// off-chain code can check its own digest against the contract's.
    function batchDigest(uint64 batchId, bytes32 root, uint256 total, uint32 count) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(BATCH_TYPEHASH, sourceChain, sourceBridge, batchId, root, total, count))
        );
    }

    /// @dev Counts `total` against the current period's cap, refusing it when the period has not
    /// that much left. Claims mint only out of posted totals, so this caps minting too.
    function _spendMintAllowance(uint64 batchId, uint256 total) private {
        uint64 period = uint64(block.timestamp / mintPeriod);
        MintWindow memory window = _window;
        uint256 used = window.period == period ? window.posted : 0;
        uint256 remaining = mintCapPerPeriod - used;
        if (total > remaining) {
            revert MintRateExceeded(batchId, total, remaining, (uint256(period) + 1) * mintPeriod);
        }
        // used + total <= mintCapPerPeriod, a uint192: the cast is exact.
        _window = MintWindow(period, uint192(used + total));
    }

    /// @dev Sets the leaf's bit, refusing a leaf already claimed.
    function _markClaimed(uint64 batchId, uint32 index) private {
        mapping(uint256 => uint256) storage words = _claimedBits[batchId];
        uint256 bit = uint256(1) << (index & 0xff);
        uint256 bits = words[index >> 8];
        if (bits & bit != 0) revert AlreadyClaimed(batchId, index);
        words[index >> 8] = bits | bit;
    }

    function _addAttester(address account) private {
        if (account == address(0)) revert ZeroAttester();
        if (isAttester[account]) revert AttesterAlreadyRegistered(account);
        isAttester[account] = true;
        ++attesterCount;
        emit AttesterAdded(account);
    }

    function _setThreshold(uint32 newThreshold) private {
        if (newThreshold == 0 || newThreshold > attesterCount) {
            revert InvalidThreshold(newThreshold, attesterCount);
        }
        emit ThresholdChanged(threshold, newThreshold);
        threshold = newThreshold;
    }
}
