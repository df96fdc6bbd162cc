using UnityEngine;
using Vtuber.Bridge;

namespace Vtuber.Bridge.Samples
{
    /// <summary>
    /// Drives a RecordingPlayer from the keyboard, to show the script API (no Timeline):
    /// Space play/pause, Left/Right seek -/+ 5 s, Home restart, Up/Down speed x2 / x0.5, L loop.
    /// </summary>
    public sealed class RecordingPlayerControls : MonoBehaviour
    {
        public RecordingPlayer player;

        void Update()
        {
            if (player == null) player = GetComponent<RecordingPlayer>();
            if (player == null || player.Recording == null) return;
            if (Input.GetKeyDown(KeyCode.Space)) { if (player.IsPlaying) player.Pause(); else player.Play(); }
            if (Input.GetKeyDown(KeyCode.LeftArrow)) player.Seek(player.CurrentTime - 5.0);
            if (Input.GetKeyDown(KeyCode.RightArrow)) player.Seek(player.CurrentTime + 5.0);
            if (Input.GetKeyDown(KeyCode.Home)) { player.Seek(0); player.Play(); }
            if (Input.GetKeyDown(KeyCode.UpArrow)) player.speed *= 2f;
            if (Input.GetKeyDown(KeyCode.DownArrow)) player.speed *= 0.5f;
            if (Input.GetKeyDown(KeyCode.L)) player.loop = !player.loop;
        }
    }
}
