using System;
using System.IO;
using UnityEngine;
using Vtuber.Bridge.Core;

namespace Vtuber.Bridge
{
    /// <summary>
    /// Plays a vtuber recording (.vtrec, docs/recording.md) on this avatar, without Timeline:
    /// Play / Pause / Stop / Seek, Loop and Speed, from the inspector or from any script.
    /// </summary>
    [DisallowMultipleComponent]
    [DefaultExecutionOrder(-100)]
    [AddComponentMenu("vtuber/Recording Player")]
    public sealed class RecordingPlayer : MonoBehaviour
    {
        [Tooltip("Path of the .vtrec file (absolute, or relative to the project / player folder).")]
        public string path = "";
        public bool playOnStart = true;
        public bool loop = true;
        [Tooltip("Playback rate: 1 = real time.")]
        public float speed = 1f;
        [Tooltip("Interpolate between recorded frames (smooth at any speed and frame rate).")]
        public bool interpolate = true;
        [Tooltip("Bones a frame does not carry get vtuber's rest pose (arms down), as the live VMC stream does.")]
        public bool fillRestPose = true;
        [Tooltip("Use the unscaled clock (ignores Time.timeScale).")]
        public bool unscaledTime;
        public AvatarSettings avatar = new AvatarSettings();

        RecordingPlayback playback;
        readonly VmcPose pose = new VmcPose();
        AvatarDriver driver;

        /// <summary>The loaded recording (null before <see cref="Open"/> succeeds).</summary>
        public Recording Recording { get { return playback == null ? null : playback.Recording; } }
        public bool IsPlaying { get { return playback != null && playback.IsPlaying; } }
        /// <summary>Playhead in seconds from the first frame.</summary>
        public double CurrentTime { get { return playback == null ? 0 : playback.Time; } }
        public double Duration { get { return playback == null ? 0 : playback.Duration; } }

        void Start()
        {
            driver = new AvatarDriver(this, avatar);
            driver.Prepare();
            if (!string.IsNullOrEmpty(path) && Open(path) && playOnStart) Play();
        }

        /// <summary>Loads a recording; logs one line and returns false if it cannot be read.</summary>
        public bool Open(string file)
        {
            byte[] data;
            try
            {
                data = File.ReadAllBytes(file);
            }
            catch (Exception e)
            {
                if (!(e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException))
                    throw;
                Debug.LogError("vtuber: cannot read recording " + file + ": " + e.Message);
                return false;
            }
            Recording rec;
            string error;
            if (!Recording.TryRead(data, out rec, out error))
            {
                Debug.LogError("vtuber: " + file + ": " + error);
                return false;
            }
            if (rec.Truncated) Debug.LogWarning("vtuber: " + file + ": " + rec.Summary());
            path = file;
            playback = new RecordingPlayback(rec);
            SyncSettings();
            Seek(0);
            return true;
        }

        public void Play()
        {
            if (playback == null) return;
            SyncSettings();
            playback.Play();
        }

        public void Pause() { if (playback != null) playback.Pause(); }

        public void Stop()
        {
            if (playback == null) return;
            playback.Pause();
            Seek(0);
        }

        /// <summary>Moves the playhead (seconds from the first frame, clamped) and shows that pose now.</summary>
        public void Seek(double seconds)
        {
            if (playback == null) return;
            playback.Seek(seconds);
            ApplyCurrent();
        }

        void SyncSettings()
        {
            playback.Loop = loop;
            playback.Speed = speed;
        }

        void Update()
        {
            if (playback == null || !playback.IsPlaying) return;
            SyncSettings();
            playback.Advance(unscaledTime ? Time.unscaledDeltaTime : Time.deltaTime);
        }

        void LateUpdate()
        {
            if (playback != null && playback.IsPlaying) ApplyCurrent();
        }

        void ApplyCurrent()
        {
            if (!playback.Sample(pose, interpolate, fillRestPose)) return;
            if (driver == null) driver = new AvatarDriver(this, avatar);
            driver.Apply(pose);
        }
    }
}
