using System;
using UnityEditor;
using UnityEngine;

namespace Vtuber.Bridge.Editor
{
    /// <summary>Menu items: add a VMC receiver to the selected avatar; open a recording on it.</summary>
    public static class VtuberBridgeMenu
    {
        [MenuItem("Tools/vtuber/Add VMC Receiver to Selected Avatar")]
        public static void AddReceiver()
        {
            var go = Selection.activeGameObject;
            if (go == null)
            {
                EditorUtility.DisplayDialog("vtuber", "Select your avatar (the GameObject with the Animator) first.", "OK");
                return;
            }
            if (go.GetComponent<VmcReceiver>() == null) Undo.AddComponent<VmcReceiver>(go);
            AddAdapters(go);
        }

        [MenuItem("Tools/vtuber/Open Recording on Selected Avatar...")]
        public static void OpenRecording()
        {
            var go = Selection.activeGameObject;
            if (go == null)
            {
                EditorUtility.DisplayDialog("vtuber", "Select your avatar (the GameObject with the Animator) first.", "OK");
                return;
            }
            string file = EditorUtility.OpenFilePanel("Open a vtuber recording", "", "vtrec");
            if (string.IsNullOrEmpty(file)) return;
            var player = go.GetComponent<RecordingPlayer>();
            if (player == null) player = Undo.AddComponent<RecordingPlayer>(go);
            Undo.RecordObject(player, "Set recording");
            player.path = file;
            EditorUtility.SetDirty(player);
            AddAdapters(go);
            if (EditorApplication.isPlaying && player.Open(file)) player.Play();
        }

        /// <summary>
        /// Adds the UniVRM 0.x / VRM 1.0 adapter matching the avatar, looked up by name because
        /// those assemblies exist only when the UniVRM packages are installed.
        /// </summary>
        static void AddAdapters(GameObject go)
        {
            TryAdd(go, "VRM.VRMBlendShapeProxy", "Vtuber.Bridge.UniVRM0.UniVrm0Expressions");
            TryAdd(go, "UniVRM10.Vrm10Instance", "Vtuber.Bridge.Vrm10.Vrm10Avatar");
        }

        static void TryAdd(GameObject go, string avatarComponent, string adapter)
        {
            var avatarType = FindType(avatarComponent);
            var adapterType = FindType(adapter);
            if (avatarType == null || adapterType == null) return;
            if (go.GetComponentInChildren(avatarType) == null || go.GetComponent(adapterType) != null) return;
            Undo.AddComponent(go, adapterType);
        }

        static Type FindType(string fullName)
        {
            foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
            {
                var t = asm.GetType(fullName, false);
                if (t != null) return t;
            }
            return null;
        }
    }

    [CustomEditor(typeof(VmcReceiver))]
    public sealed class VmcReceiverEditor : UnityEditor.Editor
    {
        public override bool RequiresConstantRepaint() { return EditorApplication.isPlaying; }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var r = (VmcReceiver)target;
            if (!EditorApplication.isPlaying)
            {
                EditorGUILayout.HelpBox("Enter Play mode, then run `vtuber track` (it sends to 127.0.0.1:39539).", MessageType.Info);
                return;
            }
            if (r.IsListening)
            {
                float age = r.SecondsSinceLastPacket;
                EditorGUILayout.LabelField("Listening on port " + r.ListeningPort + ": " + r.Datagrams + " datagrams, " +
                                           r.Rejected + " rejected" + (float.IsInfinity(age) ? ", nothing yet" : string.Format(", last {0:0.0} s ago", age)));
                if (!string.IsNullOrEmpty(r.LastError)) EditorGUILayout.LabelField("Last error: " + r.LastError);
                if (GUILayout.Button("Stop listening")) r.StopListening();
            }
            else if (GUILayout.Button("Start listening")) r.StartListening();
        }
    }

    [CustomEditor(typeof(RecordingPlayer))]
    public sealed class RecordingPlayerEditor : UnityEditor.Editor
    {
        public override bool RequiresConstantRepaint() { return EditorApplication.isPlaying; }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var p = (RecordingPlayer)target;
            if (GUILayout.Button("Open recording..."))
            {
                string file = EditorUtility.OpenFilePanel("Open a vtuber recording", "", "vtrec");
                if (!string.IsNullOrEmpty(file))
                {
                    Undo.RecordObject(p, "Set recording");
                    p.path = file;
                    EditorUtility.SetDirty(p);
                    if (EditorApplication.isPlaying) p.Open(file);
                }
            }
            if (!EditorApplication.isPlaying || p.Recording == null) return;
            EditorGUILayout.LabelField(p.Recording.Summary());
            if (GUILayout.Button(p.IsPlaying ? "Pause" : "Play"))
            {
                if (p.IsPlaying) p.Pause(); else p.Play();
            }
            float t = EditorGUILayout.Slider("Time (s)", (float)p.CurrentTime, 0f, (float)p.Duration);
            if (Math.Abs(t - p.CurrentTime) > 1e-4) p.Seek(t);
        }
    }
}
