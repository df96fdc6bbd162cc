using System.Collections.Generic;
using UnityEngine;
using UniVRM10;
using Vtuber.Bridge.Core;

namespace Vtuber.Bridge.Vrm10
{
    /// <summary>
    /// VRM 1.0 support (UniVRM's com.vrmc.vrm): bones go to the runtime's normalized control rig
    /// when it exists (Vrm10Instance then copies them to the model in its own LateUpdate), and
    /// expressions to Vrm10Instance.Runtime.Expression. VRM 0.x names (A, Joy, Blink_L ...) map to
    /// the 1.0 presets; other names (ARKit ...) to custom expressions of the same name.
    /// Compiled only when VRM 1.0 is in the project.
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("vtuber/VRM 1.0 Avatar")]
    public sealed class Vrm10Avatar : MonoBehaviour, IVmcExpressionTarget, INormalizedBoneSource
    {
        public Vrm10Instance instance;

        ExpressionNameMap names;
        ExpressionKey[] keys;
        readonly Dictionary<ExpressionKey, float> frame = new Dictionary<ExpressionKey, float>();

        Vrm10Instance Instance
        {
            get
            {
                if (instance == null) instance = GetComponentInChildren<Vrm10Instance>();
                return instance;
            }
        }

        public bool TryGetNormalizedBones(Transform[] bones)
        {
            var vrm = Instance;
            if (vrm == null || vrm.Runtime == null || vrm.Runtime.ControlRig == null) return false;
            var rig = vrm.Runtime.ControlRig;
            for (int i = 0; i < bones.Length; i++) bones[i] = rig.GetBoneTransform((HumanBodyBones)i);
            return true;
        }

        public void ApplyExpressions(Dictionary<string, float> weights)
        {
            var vrm = Instance;
            if (vrm == null || vrm.Runtime == null) return;
            var expression = vrm.Runtime.Expression;
            if (names == null)
            {
                var list = new List<ExpressionKey>(expression.ExpressionKeys);
                keys = list.ToArray();
                var n = new List<string[]>();
                foreach (var k in keys) n.Add(new[] { k.Name });
                names = new ExpressionNameMap(n);
            }
            frame.Clear();
            foreach (var kv in weights)
            {
                int i = names.Resolve(kv.Key);
                if (i >= 0) frame[keys[i]] = kv.Value;
            }
            if (frame.Count > 0) expression.SetWeights(frame);
        }
    }
}
