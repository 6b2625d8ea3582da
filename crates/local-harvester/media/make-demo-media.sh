#!/bin/sh
# Regenerates the bundled demo loop in ./demo from ffmpeg's synthetic sources.
# The output is committed; ffmpeg is only needed to change it.
#
# Two renditions (640x360 and 320x180), each H.264 + AAC muxed in MPEG-TS, cut into
# four 2-second segments (an 8 s loop). A keyframe is forced every 2 s so every segment
# starts with one and the segmenter cuts exactly on the 2 s grid.
set -eu
cd "$(dirname "$0")"
rm -rf demo
mkdir demo
ffmpeg -hide_banner -loglevel error \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=8" \
  -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=8" \
  -filter_complex "[0:v]split=2[hi][lo_in];[lo_in]scale=320:180[lo];[1:a]atrim=end_sample=382976,asplit=2[a0][a1]" \
  -map "[hi]" -map "[a0]" -map "[lo]" -map "[a1]" \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
  -g 50 -keyint_min 50 -sc_threshold 0 -force_key_frames "expr:gte(t,n_forced*2)" \
  -b:v:0 500k -maxrate:v:0 600k -bufsize:v:0 1000k \
  -b:v:1 150k -maxrate:v:1 200k -bufsize:v:1 300k \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_flags independent_segments \
  -hls_segment_type mpegts -hls_segment_filename "demo/stream_%v_%d.ts" \
  -master_pl_name master.m3u8 -var_stream_map "v:0,a:0 v:1,a:1" "demo/stream_%v.m3u8"
