//! HLS ingest: what an encoder pushes to a channel's ingest URL, like MediaPackage's WebDAV
//! ingest (e.g. `ffmpeg -f hls -method PUT`).
//!
//! Under `{public_url}in/v2/{channelId}/{ingestEndpointId}/` the encoder chooses the names. It
//! authenticates with the ingest endpoint's username and password (HTTP Digest as on
//! MediaPackage, asked for with a `401` challenge, which ffmpeg answers; or Basic, see
//! `auth.rs`). Segments are checked (MPEG-TS packets or ISO BMFF boxes) and spooled to
//! `{data_dir}/ingest/{channelId}/uploads/{ingestEndpointId}/{path}`. A media playlist then says what they are: each newly listed segment is moved to
//! `{data_dir}/ingest/{channelId}/{rendition}/` under a name that holds its buffer record
//! ([`spool_name`]) and pushed to the channel's live buffer, which deletes the file again when
//! the segment leaves the startover window. The master playlist names the renditions, in
//! order; a media playlist that arrives before it is acknowledged and read again on its next
//! update (which still lists the segments).
//!
//! The spool is the buffer's persistent form: the pushed master (`master.json`), each
//! rendition's segment files and where its ingest stands (`track.json`). [`restore`] rebuilds
//! buffer and ingest from them at start-up, so a restart keeps the startover window.
//!
//! Encoder restarts are recognised by the media sequence going back (or the same sequence
//! number with a different program date time): numbering continues in the buffer and the first
//! new segment carries a discontinuity. A segment a playlist lists but that was never uploaded
//! (or was refused) is skipped, and the next one carries a discontinuity.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::{MasterPlaylist, MediaPlaylist, Playlist};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::auth;
use super::{InitSegment, LiveBuffer, LiveSegment, Rendition, SegmentBytes, retention_for};
use crate::body::{self, BodyError};
use crate::hls;
use crate::model::ChannelSource;
use crate::server::{Context, Ctx};
use crate::validate;

/// The largest playlist accepted: a day of 2 s segments listed is about 3 MB; encoders push
/// sliding windows, far smaller.
pub const MAX_PLAYLIST_BYTES: usize = 4 << 20;
/// The largest segment accepted: 50 MB is 2 s at 200 Mbit/s.
pub const MAX_SEGMENT_BYTES: usize = 50 << 20;
/// How much of an oversized upload is read (and dropped) before it is refused.
const MAX_DRAINED_BYTES: usize = 2 * MAX_SEGMENT_BYTES;
/// Size of an MPEG-TS packet, and its sync byte.
const TS_PACKET: usize = 188;
const TS_SYNC: u8 = 0x47;
/// How long a playlist waits for the segments it lists that are still being uploaded.
const UPLOAD_WAIT: Duration = Duration::from_secs(2);
const UPLOAD_POLL: Duration = Duration::from_millis(50);

/// Why an ingest request is refused: a status and a message for the encoder's log.
#[derive(Debug, PartialEq, Eq)]
pub struct IngestError {
    status: StatusCode,
    message: String,
    /// A 401 answering credentials of a nonce this run did not issue.
    stale: bool,
}

impl IngestError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), stale: false }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], self.message.clone()).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // ffmpeg (and WebDAV clients) send credentials only when challenged.
            for challenge in auth::challenges(self.stale) {
                response.headers_mut().append(header::WWW_AUTHENTICATE, challenge);
            }
        }
        response
    }
}

/// What an uploaded file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Playlist,
    TransportStream,
    /// ISO BMFF: fMP4/CMAF media and initialisation segments.
    Mp4,
}

impl Kind {
    fn of(path: &str) -> Option<Self> {
        let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "m3u8" => Some(Self::Playlist),
            "ts" => Some(Self::TransportStream),
            "mp4" | "m4s" | "m4v" | "m4a" | "cmfv" | "cmfa" => Some(Self::Mp4),
            _ => None,
        }
    }

    fn limit(self) -> usize {
        match self {
            Self::Playlist => MAX_PLAYLIST_BYTES,
            Self::TransportStream | Self::Mp4 => MAX_SEGMENT_BYTES,
        }
    }
}

/// The ingest state of every channel fed by an encoder in this run.
#[derive(Debug, Default)]
pub struct Ingests {
    channels: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<ChannelIngest>>>>,
}

impl Ingests {
    fn channel(&self, channel_id: &str) -> Arc<tokio::sync::Mutex<ChannelIngest>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.entry(channel_id.to_owned()).or_default().clone()
    }
}

/// What one channel's ingest remembers between requests.
#[derive(Debug, Default)]
struct ChannelIngest {
    /// Media playlist path (relative to the ingest endpoint folder) → rendition index, from
    /// the master playlist.
    renditions: HashMap<String, usize>,
    tracks: HashMap<usize, Track>,
}

/// Where one rendition's ingest stands.
#[derive(Debug, Default, Clone)]
struct Track {
    /// The encoder's media sequence number of the newest segment taken.
    last_encoder_sequence: Option<u64>,
    /// Program date time of that segment, to recognise an encoder that restarted its numbering.
    last_start: Option<DateTime<Utc>>,
    /// Buffer sequence = encoder sequence + offset; changes when the encoder restarts.
    offset: i64,
    /// fMP4/CMAF: the `EXT-X-MAP` upload (path relative to the ingest endpoint folder) the newest
    /// segments use, and its spooled copy.
    init: Option<(String, Arc<InitSegment>)>,
}

/// `track.json`: a [`Track`], naming its initialisation segment by id.
#[derive(Debug, Serialize, Deserialize)]
struct SavedTrack {
    last_encoder_sequence: Option<u64>,
    last_start: Option<DateTime<Utc>>,
    offset: i64,
    init: Option<(String, u64)>,
}

impl From<&Track> for SavedTrack {
    fn from(track: &Track) -> Self {
        Self {
            last_encoder_sequence: track.last_encoder_sequence,
            last_start: track.last_start,
            offset: track.offset,
            init: track.init.as_ref().map(|(path, init)| (path.clone(), init.id)),
        }
    }
}

/// `master.json`: the master playlist the encoder pushed, and where.
#[derive(Debug, Serialize, Deserialize)]
struct SavedMaster {
    path: String,
    playlist: String,
}

const MASTER_FILE: &str = "master.json";
const TRACK_FILE: &str = "track.json";

fn spool_dir(ctx: &Context, channel_id: &str) -> PathBuf {
    ctx.config.data_dir.join("ingest").join(channel_id)
}

/// Where rendition `index`'s buffered segments are spooled.
fn track_dir(spool: &FsPath, index: usize) -> PathBuf {
    spool.join((index + 1).to_string())
}

/// File name of a buffered segment, holding its buffer record so that [`restore`] needs
/// nothing else: `{sequence}_{start, ms since 1970}_{duration ms}_{discontinuity sequence}_
/// {1 if it follows a discontinuity, else 0}_{initialisation segment id, or x}.seg`.
fn spool_name(segment: &LiveSegment) -> String {
    let init = segment.init.as_ref().map_or_else(|| "x".to_owned(), |init| init.id.to_string());
    format!(
        "{}_{}_{}_{}_{}_{init}.seg",
        segment.sequence,
        segment.start.timestamp_millis(),
        segment.duration_ms,
        segment.discontinuity_sequence,
        u8::from(segment.discontinuity)
    )
}

/// The record [`spool_name`] wrote, and the id of the initialisation segment it needs.
fn parse_spool_name(name: &str, path: &FsPath) -> Option<(LiveSegment, Option<u64>)> {
    let fields: Vec<&str> = name.strip_suffix(".seg")?.split('_').collect();
    let [sequence, start, duration, discontinuity_sequence, discontinuity, init] = fields[..] else { return None };
    let segment = LiveSegment {
        sequence: sequence.parse().ok()?,
        start: DateTime::from_timestamp_millis(start.parse().ok()?)?,
        duration_ms: duration.parse().ok()?,
        discontinuity: discontinuity == "1",
        discontinuity_sequence: discontinuity_sequence.parse().ok()?,
        bytes: SegmentBytes::File(Arc::from(path)),
        init: None,
    };
    let init = if init == "x" { None } else { Some(init.parse().ok()?) };
    Some((segment, init))
}

/// Writes a spool record; on failure the buffer goes on, only a restart would lose it.
async fn save(path: &FsPath, record: &impl Serialize) {
    let written = match serde_json::to_vec(record) {
        Ok(bytes) => crate::store::write_atomic(path, &bytes).await,
        Err(e) => Err(crate::HarvesterError::Serialize(e)),
    };
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "ingest: cannot save the spool's record");
    }
}

/// Rebuilds `channel_id`'s buffer and ingest from its spool (see the module's doc), and
/// removes what no longer belongs to it: segments out of the startover window, files of a run
/// that never pushed a master playlist, leftovers of interrupted writes.
pub async fn restore(ctx: &Ctx, channel_id: &str) {
    let dir = spool_dir(ctx, channel_id);
    let saved: Option<SavedMaster> =
        tokio::fs::read(dir.join(MASTER_FILE)).await.ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let master = saved.as_ref().and_then(|saved| m3u8_rs::parse_master_playlist_res(saved.playlist.as_bytes()).ok());
    let (Some(saved), Some(master)) = (saved, master) else {
        if let Err(e) = tokio::fs::remove_dir_all(&dir).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %dir.display(), error = %e, "cannot remove an ingest spool without a master playlist");
        }
        return;
    };
    let (mapping, renditions) = renditions_of(ctx, channel_id, &saved.path, &master);
    let mut buffer = LiveBuffer::new(renditions, retention_for([]));
    let mut tracks = HashMap::new();
    for index in 0..buffer.renditions().len() {
        let (segments, track) = restore_track(&track_dir(&dir, index)).await;
        for segment in segments {
            buffer.push(index, segment);
        }
        tracks.extend(track.map(|track| (index, track)));
    }
    let restored: usize = (0..buffer.renditions().len()).map(|i| buffer.segments(i).len()).sum();
    tracing::info!(channel = channel_id, segments = restored, "ingest: restored the buffer from the spool");
    let ingest = ctx.ingests.channel(channel_id);
    *ingest.lock().await = ChannelIngest { renditions: mapping, tracks };
    let buffer = ctx.live.get_or_insert(channel_id, || buffer);
    ctx.refresh_retention(channel_id).await;
    let dropped = buffer.write().unwrap_or_else(|e| e.into_inner()).trim(Utc::now());
    remove_spooled(dropped).await;
}

/// One rendition's segments, oldest first, and its ingest state, from its spool folder.
async fn restore_track(dir: &FsPath) -> (Vec<LiveSegment>, Option<Track>) {
    let mut segments = Vec::new();
    let mut inits: HashMap<u64, Arc<InitSegment>> = HashMap::new();
    let mut saved: Option<SavedTrack> = None;
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return (Vec::new(), None) };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let init_id = name.strip_prefix("init-").and_then(|n| n.strip_suffix(".mp4")).and_then(|n| n.parse().ok());
        if let Some(id) = init_id {
            inits.insert(id, Arc::new(InitSegment::new(id, SegmentBytes::File(Arc::from(path.as_path())))));
        } else if name == TRACK_FILE {
            saved = tokio::fs::read(&path).await.ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
        } else if let Some(record) = parse_spool_name(&name, &path) {
            segments.push(record);
        } else {
            remove_file(&path).await;
        }
    }
    let mut kept = Vec::with_capacity(segments.len());
    for (mut segment, init) in segments {
        match init.map(|id| inits.get(&id)) {
            None => kept.push(segment),
            Some(Some(init)) => {
                segment.init = Some(init.clone());
                kept.push(segment);
            }
            Some(None) => remove_spooled(vec![segment]).await,
        }
    }
    kept.sort_by_key(|s| s.sequence);
    let track = saved.map(|saved| Track {
        last_encoder_sequence: saved.last_encoder_sequence,
        last_start: saved.last_start,
        offset: saved.offset,
        init: saved.init.and_then(|(path, id)| inits.get(&id).map(|init| (path, init.clone()))),
    });
    // Initialisation segments no segment needs delete themselves as `inits` goes.
    (kept, track)
}

fn upload_path(ctx: &Context, channel_id: &str, endpoint_id: &str, path: &str) -> PathBuf {
    spool_dir(ctx, channel_id).join("uploads").join(endpoint_id).join(path)
}

/// `PUT /in/v2/{channelId}/{ingestEndpointId}/{*path}`.
///
/// The upload is taken in a task of its own: ffmpeg closes the connection right after the body
/// without waiting for the answer, and the server then drops the request's future, which must
/// not lose a segment half spooled or a playlist half taken.
pub async fn put(
    State(ctx): State<Ctx>,
    Path((channel_id, endpoint_id, path)): Path<(String, String, String)>,
    request: Request,
) -> Result<StatusCode, IngestError> {
    let task = ctx.tasks.spawn(take_upload(ctx.clone(), channel_id, endpoint_id, path, request));
    task.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "an ingest task failed");
        Err(IngestError::new(StatusCode::INTERNAL_SERVER_ERROR, "the upload could not be taken"))
    })
}

async fn take_upload(
    ctx: Ctx,
    channel_id: String,
    endpoint_id: String,
    path: String,
    request: Request,
) -> Result<StatusCode, IngestError> {
    authorize(&ctx, &channel_id, &endpoint_id, request.method(), request.uri(), request.headers()).await?;
    validate::relative_path(&path).map_err(|reason| IngestError::bad_request(format!("'{path}' {reason}")))?;
    let kind = Kind::of(&path).ok_or_else(|| {
        IngestError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("'{path}': only HLS playlists (.m3u8), MPEG-TS (.ts) and fMP4/CMAF (.mp4, .m4s, ...) are ingested"),
        )
    })?;
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, kind.limit(), &path).await?;
    match kind {
        Kind::Playlist => {
            let playlist = m3u8_rs::parse_playlist_res(&bytes)
                .map_err(|_| IngestError::bad_request(format!("'{path}' is not a valid HLS playlist")))?;
            let ingest = ctx.ingests.channel(&channel_id);
            let mut ingest = ingest.lock().await;
            match playlist {
                Playlist::MasterPlaylist(master) => take_master(&ctx, &channel_id, &path, &master, &mut ingest).await,
                Playlist::MediaPlaylist(media) => {
                    take_media(&ctx, &channel_id, &endpoint_id, &path, &media, &mut ingest).await?;
                }
            }
        }
        Kind::TransportStream | Kind::Mp4 => {
            check_segment(kind, &bytes).map_err(|reason| IngestError::bad_request(format!("'{path}' {reason}")))?;
            let destination = upload_path(&ctx, &channel_id, &endpoint_id, &path);
            crate::store::write_atomic(&destination, &bytes).await.map_err(|e| {
                tracing::error!(error = %e, "cannot spool an ingested segment");
                IngestError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("'{path}' could not be stored"))
            })?;
        }
    }
    Ok(StatusCode::CREATED)
}

/// Forgets a deleted channel's ingest: its state and its spooled files.
pub async fn forget(ctx: &Context, channel_id: &str) {
    ctx.ingests.channels.lock().unwrap_or_else(|e| e.into_inner()).remove(channel_id);
    let dir = spool_dir(ctx, channel_id);
    if let Err(e) = tokio::fs::remove_dir_all(&dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %dir.display(), error = %e, "cannot remove a deleted channel's ingest spool");
    }
}

/// `DELETE /in/v2/{channelId}/{ingestEndpointId}/{*path}`: encoders delete segments that left
/// their playlist. Segments already taken into the buffer stay there for the startover window.
pub async fn delete(
    State(ctx): State<Ctx>,
    Path((channel_id, endpoint_id, path)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<StatusCode, IngestError> {
    authorize(&ctx, &channel_id, &endpoint_id, &method, &uri, &headers).await?;
    validate::relative_path(&path).map_err(|reason| IngestError::bad_request(format!("'{path}' {reason}")))?;
    match tokio::fs::remove_file(upload_path(&ctx, &channel_id, &endpoint_id, &path)).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, %path, "cannot delete an ingested file"),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The channel and ingest endpoint exist, take ingest, and the request carries their
/// credentials.
async fn authorize(
    ctx: &Context,
    channel_id: &str,
    endpoint_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), IngestError> {
    let channel = ctx
        .store
        .read(|s| s.channels.get(channel_id).cloned())
        .await
        .ok_or_else(|| IngestError::new(StatusCode::NOT_FOUND, format!("Channel '{channel_id}' does not exist")))?;
    let endpoint = channel.ingest_endpoints.iter().find(|e| e.id == endpoint_id).ok_or_else(|| {
        IngestError::new(
            StatusCode::NOT_FOUND,
            format!("Channel '{channel_id}' has no ingest endpoint '{endpoint_id}'"),
        )
    })?;
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Err(IngestError::new(StatusCode::UNAUTHORIZED, "Credentials are required"));
    };
    let request_uri = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let verified = authorization.to_str().map_err(|_| auth::Refusal::Invalid).and_then(|authorization| {
        auth::verify(authorization, method.as_str(), request_uri, &endpoint.username, &endpoint.password)
    });
    match verified {
        Ok(()) => {}
        Err(auth::Refusal::Stale) => {
            return Err(IngestError {
                stale: true,
                ..IngestError::new(StatusCode::UNAUTHORIZED, "The nonce has expired")
            });
        }
        Err(auth::Refusal::Invalid) => {
            return Err(IngestError::new(StatusCode::FORBIDDEN, "Invalid credentials for this ingest endpoint"));
        }
    }
    if let ChannelSource::Demo { .. } = channel.source {
        return Err(IngestError::new(
            StatusCode::FORBIDDEN,
            format!("Channel '{channel_id}' is fed by the built-in demo loop and takes no ingest"),
        ));
    }
    Ok(())
}

/// Reads an upload of at most `limit` bytes. A body that breaks off is refused as truncated.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize, path: &str) -> Result<Vec<u8>, IngestError> {
    let bytes = body::read_limited(headers, body, limit, MAX_DRAINED_BYTES).await.map_err(|e| match e {
        BodyError::TooLarge => {
            IngestError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("'{path}' is larger than {limit} bytes"))
        }
        BodyError::CutOff(cause) => IngestError::bad_request(format!("'{path}' upload was cut off: {cause}")),
    })?;
    if bytes.is_empty() {
        return Err(IngestError::bad_request(format!("'{path}' is empty")));
    }
    Ok(bytes)
}

/// Checks that a segment is what its extension says and is complete: whole MPEG-TS packets,
/// or ISO BMFF boxes that add up to the upload.
fn check_segment(kind: Kind, bytes: &[u8]) -> Result<(), String> {
    match kind {
        Kind::TransportStream => {
            if !bytes.len().is_multiple_of(TS_PACKET) {
                return Err(format!("is truncated: {} bytes is not a whole number of MPEG-TS packets", bytes.len()));
            }
            if bytes.chunks(TS_PACKET).any(|packet| packet[0] != TS_SYNC) {
                return Err("is not MPEG-TS (a packet lacks the 0x47 sync byte)".to_owned());
            }
            Ok(())
        }
        Kind::Mp4 => {
            const TOP_LEVEL: [&[u8; 4]; 10] =
                [b"ftyp", b"styp", b"moov", b"moof", b"mdat", b"sidx", b"emsg", b"prft", b"free", b"uuid"];
            let mut at = 0usize;
            while at < bytes.len() {
                let header = bytes.get(at..at + 8).ok_or("is truncated inside an MP4 box header")?;
                let kind = &header[4..8];
                if !TOP_LEVEL.iter().any(|k| k.as_slice() == kind) {
                    return Err(format!("is not fMP4/CMAF (unexpected box '{}')", String::from_utf8_lossy(kind)));
                }
                let size = match u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) {
                    0 => bytes.len() - at,
                    1 => {
                        let large = bytes.get(at + 8..at + 16).ok_or("is truncated inside an MP4 box header")?;
                        usize::try_from(u64::from_be_bytes(large.try_into().expect("8 bytes")))
                            .map_err(|_| "has an MP4 box too large to hold")?
                    }
                    size => size as usize,
                };
                if size < 8 {
                    return Err("is not fMP4/CMAF (an MP4 box is smaller than its header)".to_owned());
                }
                at = at.checked_add(size).ok_or("has an MP4 box too large to hold")?;
            }
            if at == bytes.len() { Ok(()) } else { Err("is truncated: its last MP4 box is cut off".to_owned()) }
        }
        Kind::Playlist => Ok(()),
    }
}

/// A URI in a playlist at `playlist_path`, as a path relative to the ingest endpoint folder;
/// `None` when it points elsewhere.
fn resolve(ctx: &Context, channel_id: &str, playlist_path: &str, uri: &str) -> Option<String> {
    let relative = if uri.contains("://") {
        let url = url::Url::parse(uri).ok()?;
        let ingest_prefix = url::Url::parse(&ctx.config.public(&format!("in/v2/{channel_id}/"))).ok()?;
        let rest = url.path().strip_prefix(ingest_prefix.path())?;
        // Drop the ingest endpoint id: uploads are looked up under the one that was used.
        rest.split_once('/')?.1.to_owned()
    } else {
        let dir = playlist_path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let uri = uri.split(['?', '#']).next().unwrap_or(uri);
        if dir.is_empty() { uri.to_owned() } else { format!("{dir}/{uri}") }
    };
    validate::relative_path(&relative).ok().map(|()| relative)
}

/// A master playlist names the renditions; a new set starts them over.
async fn take_master(ctx: &Ctx, channel_id: &str, path: &str, master: &MasterPlaylist, ingest: &mut ChannelIngest) {
    let (mapping, renditions) = renditions_of(ctx, channel_id, path, master);
    if mapping != ingest.renditions {
        tracing::info!(channel = channel_id, renditions = renditions.len(), "ingest: new master playlist");
        ingest.renditions = mapping;
        ingest.tracks.clear();
        let dir = spool_dir(ctx, channel_id);
        for index in 0..renditions.len() {
            remove_file(&track_dir(&dir, index).join(TRACK_FILE)).await;
        }
        let saved = SavedMaster {
            path: path.to_owned(),
            playlist: String::from_utf8_lossy(&hls::render(&Playlist::MasterPlaylist(master.clone()))).into_owned(),
        };
        save(&dir.join(MASTER_FILE), &saved).await;
    }
    let buffer = ctx.live.get_or_insert(channel_id, || LiveBuffer::new(renditions.clone(), retention_for([])));
    let dropped = buffer.write().unwrap_or_else(|e| e.into_inner()).set_renditions(renditions);
    remove_spooled(dropped).await;
    ctx.refresh_retention(channel_id).await;
}

/// The renditions a master playlist at `path` names, in order, each with its media playlist's
/// path relative to the ingest endpoint folder.
fn renditions_of(
    ctx: &Context,
    channel_id: &str,
    path: &str,
    master: &MasterPlaylist,
) -> (HashMap<String, usize>, Vec<Rendition>) {
    // Variants first, then the alternatives that have their own playlist (a separate audio
    // group); a playlist listed twice is one rendition.
    let mut renditions: Vec<(String, Rendition)> = Vec::new();
    for variant in master.variants.iter().filter(|v| !v.is_i_frame) {
        let Some(media_path) = resolve(ctx, channel_id, path, &variant.uri) else { continue };
        if renditions.iter().all(|(p, _)| *p != media_path) {
            let rendition = Rendition {
                bandwidth: variant.bandwidth,
                average_bandwidth: variant.average_bandwidth,
                codecs: variant.codecs.clone(),
                resolution: variant.resolution.map(|r| (r.width, r.height)),
                frame_rate: variant.frame_rate,
                audio_group: variant.audio.clone(),
                alternative: None,
            };
            renditions.push((media_path, rendition));
        }
    }
    for alternative in &master.alternatives {
        let Some(media_path) = alternative.uri.as_deref().and_then(|uri| resolve(ctx, channel_id, path, uri)) else {
            continue;
        };
        if renditions.iter().all(|(p, _)| *p != media_path) {
            let rendition = Rendition {
                bandwidth: 0,
                average_bandwidth: None,
                codecs: None,
                resolution: None,
                frame_rate: None,
                audio_group: None,
                alternative: Some(alternative.clone()),
            };
            renditions.push((media_path, rendition));
        }
    }
    let mapping: HashMap<String, usize> = renditions.iter().enumerate().map(|(i, (p, _))| (p.clone(), i)).collect();
    (mapping, renditions.into_iter().map(|(_, r)| r).collect())
}

/// Takes the segments a media playlist lists for the first time into the live buffer.
async fn take_media(
    ctx: &Ctx,
    channel_id: &str,
    endpoint_id: &str,
    path: &str,
    media: &MediaPlaylist,
    ingest: &mut ChannelIngest,
) -> Result<(), IngestError> {
    let Some(&index) = ingest.renditions.get(path) else {
        if ingest.renditions.is_empty() {
            // The master comes with the first segments; this playlist's next update is read.
            return Ok(());
        }
        return Err(IngestError::new(
            StatusCode::CONFLICT,
            format!("'{path}' is not a rendition of the master playlist pushed to this channel"),
        ));
    };
    let Some(buffer) = ctx.live.get(channel_id) else { return Ok(()) };
    let mut track = ingest.tracks.get(&index).cloned().unwrap_or_default();
    // An EXT-X-MAP applies to every segment after it up to the next one, not only to the
    // segment it precedes.
    let listed: Vec<(u64, &m3u8_rs::MediaSegment, Option<&m3u8_rs::Map>)> = media
        .segments
        .iter()
        .enumerate()
        .scan(None, |map, (i, s)| {
            *map = s.map.as_ref().or(*map);
            Some((media.media_sequence + i as u64, s, *map))
        })
        .collect();
    let Some(&(last_listed, _, _)) = listed.last() else { return Ok(()) };

    let restarted = track.last_encoder_sequence.is_some_and(|last| {
        last_listed < last
            || listed.iter().any(|(n, s, _)| {
                *n == last
                    && s.program_date_time.is_some()
                    && s.program_date_time.map(|t| t.to_utc()) != track.last_start
            })
    });
    if restarted {
        tracing::info!(channel = channel_id, rendition = index + 1, "ingest: the encoder restarted");
        track.last_encoder_sequence = None;
        // A restarted encoder rewrites its initialisation segment under the same name.
        track.init = None;
    }
    let mut fresh: Vec<_> = listed
        .into_iter()
        .filter(|(n, _, _)| track.last_encoder_sequence.is_none_or(|l| *n > l))
        .map(|(n, s, map)| {
            (n, s, map, resolve(ctx, channel_id, path, &s.uri).map(|p| upload_path(ctx, channel_id, endpoint_id, &p)))
        })
        .collect();
    // The newest segments may still be arriving: an encoder sends the playlist right after the
    // segment, on another connection. Missing ones are skipped only when a later one is here,
    // so a segment that never comes (or was refused) does not stall the rendition.
    let mut waited = Duration::ZERO;
    loop {
        let mut present = Vec::with_capacity(fresh.len());
        for (_, _, _, upload) in &fresh {
            present.push(match upload {
                Some(upload) => tokio::fs::try_exists(upload).await.unwrap_or(false),
                None => false,
            });
        }
        if present.iter().all(|p| *p) || waited >= UPLOAD_WAIT {
            fresh.truncate(present.iter().rposition(|p| *p).map_or(0, |last| last + 1));
            break;
        }
        tokio::time::sleep(UPLOAD_POLL).await;
        waited += UPLOAD_POLL;
    }
    let Some(&(first_fresh, _, _, _)) = fresh.first() else { return Ok(()) };

    let newest = buffer.read().unwrap_or_else(|e| e.into_inner()).segments(index).back().cloned();
    if track.last_encoder_sequence.is_none() {
        // Continue the buffer's numbering (or start at the encoder's own when it is empty).
        let next = newest.as_ref().map_or(first_fresh as i64, |s| s.sequence as i64 + 1);
        track.offset = next - first_fresh as i64;
    }
    let now = Utc::now();
    let track_dir = track_dir(&spool_dir(ctx, channel_id), index);
    tokio::fs::create_dir_all(&track_dir).await.map_err(|e| {
        tracing::error!(error = %e, "cannot create the ingest spool folder");
        IngestError::new(StatusCode::INTERNAL_SERVER_ERROR, "the segment spool is not writable")
    })?;
    let mut previous = newest;
    let mut broken = restarted;
    let mut taken = Vec::new();
    for (encoder_sequence, segment, map, upload) in fresh {
        track.last_encoder_sequence = Some(encoder_sequence);
        track.last_start = segment.program_date_time.map(|t| t.to_utc());
        let Ok(sequence) = u64::try_from(encoder_sequence as i64 + track.offset) else { continue };
        let duration_ms = (f64::from(segment.duration) * 1000.0).round() as u32;
        let init = match map {
            None => Ok(None),
            Some(map) => take_init(ctx, channel_id, endpoint_id, path, &map.uri, sequence, &track_dir, &mut track)
                .await
                .map(Some),
        };
        let discontinuity = segment.discontinuity || (broken && previous.is_some());
        let discontinuity_sequence =
            previous.as_ref().map_or(0, |p| p.discontinuity_sequence) + u64::from(discontinuity);
        let elsewhere =
            buffer.read().unwrap_or_else(|e| e.into_inner()).start_elsewhere(index, sequence, discontinuity_sequence);
        let start = match (elsewhere, segment.program_date_time, &previous) {
            (Some(start), _, _) => start,
            (None, Some(pdt), _) => pdt.to_utc(),
            (None, None, Some(p)) if !discontinuity => p.end(),
            _ => now - TimeDelta::milliseconds(i64::from(duration_ms)),
        };
        let spooled = match (init, upload) {
            (Ok(init), Some(upload)) if duration_ms > 0 => {
                let record = LiveSegment {
                    sequence,
                    start,
                    duration_ms,
                    discontinuity,
                    discontinuity_sequence,
                    bytes: SegmentBytes::Shared(Bytes::new()),
                    init,
                };
                let spooled = track_dir.join(spool_name(&record));
                let moved = tokio::fs::rename(&upload, &spooled).await.is_ok();
                moved.then(|| LiveSegment { bytes: SegmentBytes::File(Arc::from(spooled.as_path())), ..record })
            }
            _ => None,
        };
        let Some(live_segment) = spooled else {
            tracing::warn!(channel = channel_id, uri = %segment.uri, "ingest: a listed segment was not uploaded; skipped");
            broken = true;
            continue;
        };
        broken = false;
        tracing::debug!(
            channel = channel_id,
            rendition = index + 1,
            encoder_sequence,
            sequence,
            start = %live_segment.start,
            duration_ms,
            discontinuity,
            "ingest: segment taken"
        );
        previous = Some(live_segment.clone());
        taken.push(live_segment);
    }
    save(&track_dir.join(TRACK_FILE), &SavedTrack::from(&track)).await;
    ingest.tracks.insert(index, track);

    let dropped = {
        let mut buffer = buffer.write().unwrap_or_else(|e| e.into_inner());
        let mut refused = Vec::new();
        for segment in taken {
            let newer = buffer.segments(index).back().is_none_or(|last| last.sequence < segment.sequence);
            if newer {
                buffer.push(index, segment);
            } else {
                refused.push(segment);
            }
        }
        refused.extend(buffer.trim(now));
        refused
    };
    remove_spooled(dropped).await;
    Ok(())
}

/// The spooled initialisation segment at `uri` (from an `EXT-X-MAP` of the playlist at
/// `playlist_path`): the track's current one if unchanged, else a copy of the upload (which
/// stays, as every later playlist names it too).
#[allow(clippy::too_many_arguments)]
async fn take_init(
    ctx: &Context,
    channel_id: &str,
    endpoint_id: &str,
    playlist_path: &str,
    uri: &str,
    sequence: u64,
    track_dir: &FsPath,
    track: &mut Track,
) -> Result<Arc<InitSegment>, ()> {
    let relative = resolve(ctx, channel_id, playlist_path, uri).ok_or(())?;
    if let Some((current, init)) = &track.init
        && *current == relative
    {
        return Ok(init.clone());
    }
    let spooled = track_dir.join(format!("init-{sequence}.mp4"));
    tokio::fs::copy(upload_path(ctx, channel_id, endpoint_id, &relative), &spooled).await.map_err(|_| ())?;
    let init = Arc::new(InitSegment::new(sequence, SegmentBytes::File(Arc::from(spooled.as_path()))));
    track.init = Some((relative, init.clone()));
    Ok(init)
}

/// Deletes the spooled files of segments that left the buffer.
async fn remove_spooled(segments: Vec<LiveSegment>) {
    for segment in segments {
        if let SegmentBytes::File(path) = segment.bytes {
            remove_file(&path).await;
        }
    }
}

async fn remove_file(path: &FsPath) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a spooled segment");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(packets: usize) -> Vec<u8> {
        let mut packet = [0u8; TS_PACKET];
        packet[0] = TS_SYNC;
        packet.repeat(packets)
    }

    fn mp4_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
        let mut b = ((8 + payload) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.resize(8 + payload, 0);
        b
    }

    #[test]
    fn a_spooled_name_holds_the_buffer_record() {
        let init = Arc::new(InitSegment::new(7, SegmentBytes::Shared(Bytes::new())));
        let segment = LiveSegment {
            sequence: 42,
            start: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
            duration_ms: 1960,
            discontinuity: true,
            discontinuity_sequence: 3,
            bytes: SegmentBytes::Shared(Bytes::new()),
            init: Some(init),
        };
        let name = spool_name(&segment);
        let (parsed, init) = parse_spool_name(&name, FsPath::new("/spool/1").join(&name).as_path()).unwrap();
        assert_eq!(init, Some(7));
        assert_eq!(
            (parsed.sequence, parsed.start, parsed.duration_ms, parsed.discontinuity, parsed.discontinuity_sequence),
            (42, segment.start, 1960, true, 3)
        );
        assert!(parse_spool_name("42.seg", FsPath::new("/spool/1/42.seg")).is_none());
        assert!(parse_spool_name("track.json", FsPath::new("/spool/1/track.json")).is_none());
    }

    #[test]
    fn kinds_follow_the_extension() {
        assert_eq!(Kind::of("channel.m3u8"), Some(Kind::Playlist));
        assert_eq!(Kind::of("a/channel_1_00001.TS"), Some(Kind::TransportStream));
        assert_eq!(Kind::of("init_0.mp4"), Some(Kind::Mp4));
        assert_eq!(Kind::of("seg.m4s"), Some(Kind::Mp4));
        assert_eq!(Kind::of("notes.txt"), None);
        assert_eq!(Kind::of("channel"), None);
    }

    #[test]
    fn transport_streams_are_whole_packets_with_sync_bytes() {
        assert!(check_segment(Kind::TransportStream, &ts(3)).is_ok());
        let mut cut = ts(3);
        cut.truncate(400);
        assert!(check_segment(Kind::TransportStream, &cut).unwrap_err().contains("truncated"));
        let garbage = vec![b'x'; TS_PACKET * 2];
        assert!(check_segment(Kind::TransportStream, &garbage).unwrap_err().contains("not MPEG-TS"));
    }

    #[test]
    fn mp4_boxes_must_add_up() {
        let mut segment = mp4_box(b"styp", 8);
        segment.extend(mp4_box(b"moof", 40));
        segment.extend(mp4_box(b"mdat", 1000));
        assert!(check_segment(Kind::Mp4, &segment).is_ok());
        let mut cut = segment.clone();
        cut.truncate(segment.len() - 10);
        assert!(check_segment(Kind::Mp4, &cut).unwrap_err().contains("truncated"));
        assert!(check_segment(Kind::Mp4, b"hello world, not a box").unwrap_err().contains("not fMP4"));
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&24u64.to_be_bytes());
        large.resize(24, 0);
        assert!(check_segment(Kind::Mp4, &large).is_ok());
    }
}
