// UnityEngine/UniVRM STUBS — not Unity.
// Exactly the UniVRM 0.x (assembly "VRM", namespace VRM) API that unity_bridge/Runtime/UniVRM0
// touches (compile checks only).
using System;
using System.Collections.Generic;
using UnityEngine;

namespace VRM
{
    public enum BlendShapePreset
    {
        Unknown, Neutral, A, I, U, E, O, Blink, Joy, Angry, Sorrow, Fun,
        LookUp, LookDown, LookLeft, LookRight, Blink_L, Blink_R,
    }

    public class BlendShapeClip : ScriptableObject
    {
        public string BlendShapeName;
        public BlendShapePreset Preset;
    }

    public class BlendShapeAvatar : ScriptableObject
    {
        public List<BlendShapeClip> Clips = new List<BlendShapeClip>();
    }

    public struct BlendShapeKey
    {
        public static BlendShapeKey CreateFromClip(BlendShapeClip clip) { throw new NotSupportedException("stub"); }
    }

    public class VRMBlendShapeProxy : MonoBehaviour
    {
        public BlendShapeAvatar BlendShapeAvatar;
        public void AccumulateValue(BlendShapeKey key, float value) { throw new NotSupportedException("stub"); }
        public void Apply() { throw new NotSupportedException("stub"); }
    }
}
