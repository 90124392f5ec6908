# fedswarm record schemas (wire and storage format).
#
# Every record travels as an Envelope whose `body` holds the *canonical* Cap'n Proto
# encoding (capnp::canonicalize) of the struct named by `kind`. Receivers reject
# bodies that are not canonical, so one content has exactly one byte string and one
# signature covers it. Field numbers are append-only: never renumber or reuse.
@0xa81d3ac7d091e87c;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fedswarm::schema");

enum RecordKind {
  unknown @0;
  manifest @1;
  retraction @2;
  replica @3;
  claim @4;
  roster @5;
}

struct Envelope {
  authorKey @0 :Data;    # Ed25519 public key, 32 bytes
  seq @1 :UInt64;        # per author, starts at 1, no gaps
  kind @2 :RecordKind;
  body @3 :Data;         # canonical bytes of the body struct
  signature @4 :Data;    # 64 bytes, see Envelope.hpp for the signed message
}

struct Facet {
  name @0 :Text;
  values @1 :List(Text);   # most facets have one value; realm, source_type may have several
}

struct ManifestFile {
  path @0 :Text;         # relative to the version directory, '/'-separated
  size @1 :UInt64;
  sha256 @2 :Data;       # 32 bytes
  xxh3 @3 :Data;         # 16 bytes, xxh3-128 canonical (big-endian) form
  trackingId @4 :Text;   # PID from the netCDF tracking_id attribute, or empty
}

struct Manifest {
  project @0 :Text;            # template name, e.g. "CMIP6"
  datasetId @1 :Text;          # DRS id without version
  version @2 :Text;            # vYYYYMMDD
  facets @3 :List(Facet);      # DRS facets and descriptive search facets
  files @4 :List(ManifestFile);
  infoDict @5 :Data;           # bencoded BitTorrent v2 info dict of the file set
  supersedes @6 :Text;         # earlier version this one replaces, or empty
  publishedAt @7 :Int64;       # unix seconds
}

struct Retraction {
  datasetId @0 :Text;
  version @1 :Text;
  reason @2 :Text;
  errataId @3 :Text;
  retractedAt @4 :Int64;
}

enum ReplicaState {
  complete @0;   # holds a complete, verified copy
  dropped @1;    # no longer holds it (deleted, failed verify, quota)
}

struct Replica {
  datasetId @0 :Text;
  version @1 :Text;
  state @2 :ReplicaState;
  at @3 :Int64;
}

enum ClaimAction {
  take @0;      # I take on the Tier-1 copy, due by `deadline`
  release @1;   # I give it up
}

struct Claim {
  datasetId @0 :Text;
  version @1 :Text;
  action @2 :ClaimAction;
  deadline @3 :Int64;
  madeAt @4 :Int64;
}

enum Tier {
  tier1 @0;
  tier2 @1;
  dark @2;
}

struct Member {
  key @0 :Data;
  site @1 :Text;
  tier @2 :Tier;
  endpoints @3 :List(Text);   # "host:port" for gossip; the swarm port is in `swarmPort`
  capacity @4 :UInt64;        # bytes offered for replicas
  swarmPort @5 :UInt16;
  httpUrl @6 :Text;           # "https://host:port" of the node's HTTP face (esg-search, fileServer); empty: none
}

struct Grant {
  key @0 :Data;
  projects @1 :List(Text);
  institutions @2 :List(Text);   # empty list: every institution of the projects
}

struct Roster {
  federation @0 :Text;
  serial @1 :UInt64;
  issuedAt @2 :Int64;
  expiresAt @3 :Int64;
  members @4 :List(Member);
  grants @5 :List(Grant);
}
