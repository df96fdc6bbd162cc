using System.Collections.Generic;
using UnityEngine;
using VRM;
using Vtuber.Bridge.Core;

namespace Vtuber.Bridge.UniVRM0
{
    /// <summary>
    /// Drives a UniVRM 0.x avatar's VRMBlendShapeProxy from VMC blendshape names. Each clip answers
    /// to its BlendShapeName and its preset name; VRM 1.0 names (aa, happy ...) map to the 0.x
    /// presets (A, Joy ...). Compiled only when UniVRM 0.x (com.vrmc.univrm) is in the project.
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("vtuber/UniVRM 0.x Expressions")]
    public sealed class UniVrm0Expressions : MonoBehaviour, IVmcExpressionTarget
    {
        public VRMBlendShapeProxy proxy;

        ExpressionNameMap names;
        BlendShapeKey[] keys;

        void Build()
        {
            if (proxy == null) proxy = GetComponentInChildren<VRMBlendShapeProxy>();
            var clipKeys = new List<BlendShapeKey>();
            var clipNames = new List<string[]>();
            if (proxy != null && proxy.BlendShapeAvatar != null)
            {
                foreach (var clip in proxy.BlendShapeAvatar.Clips)
                {
                    if (clip == null) continue;
                    clipKeys.Add(BlendShapeKey.CreateFromClip(clip));
                    clipNames.Add(clip.Preset == BlendShapePreset.Unknown
                        ? new[] { clip.BlendShapeName }
                        : new[] { clip.BlendShapeName, clip.Preset.ToString() });
                }
            }
            else
            {
                Debug.LogWarning("vtuber: no VRMBlendShapeProxy with a BlendShapeAvatar under " + name);
            }
            keys = clipKeys.ToArray();
            names = new ExpressionNameMap(clipNames);
        }

        public void ApplyExpressions(Dictionary<string, float> weights)
        {
            if (names == null) Build();
            if (proxy == null) return;
            foreach (var kv in weights)
            {
                int i = names.Resolve(kv.Key);
                if (i >= 0) proxy.AccumulateValue(keys[i], kv.Value);
            }
            proxy.Apply();
        }
    }
}
